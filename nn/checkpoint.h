// Training checkpoints (namespace retort::nn): everything a training loop needs to continue
// bit-identically — tensors (model, optimiser, loss modules) and text values (counters, RNG
// states, metrics) — in one safetensors file (nn/serialization.h), so PyTorch can open it too.
//
// The safetensors metadata carries, besides the caller's values:
//   "format"   = "retort.checkpoint"
//   "version"  = "1"
//   "checksum" = CRC-32 (zlib) in hex of, in key order, every tensor's name, dtype, shape and
//                bytes, then every other metadata key and value
// Saving writes a temp file and renames it over the path (the safetensors writer), so a crash or
// a kill mid-write leaves the previous checkpoint in place. Loading runs the safetensors checks
// (structure, offsets, sizes) and then these, each failure naming the file and what differs:
//   "load_checkpoint: 'run.ckpt': checksum mismatch (stored 0x1a2b3c4d, computed 0x5e6f7a8b):
//    the file is damaged"
//   "load_checkpoint: 'x.safetensors': not a training checkpoint (format '' instead of
//    'retort.checkpoint')", "... version '2', this build reads version 1".
// Caller keys must not start with "format", "version" or "checksum".
#pragma once
#include <cstdint>
#include <string>

#include "nn/serialization.h"

namespace retort::nn {

struct Checkpoint {
  TensorMap tensors;
  Metadata values;
};

inline constexpr const char* kCheckpointFormat = "retort.checkpoint";
inline constexpr int kCheckpointVersion = 1;

void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
Checkpoint load_checkpoint(const std::string& path);

// The checksum as stored ("0x" + 8 hex digits) of tensors and values (the reserved keys excluded).
std::string checkpoint_checksum(const TensorMap& tensors, const Metadata& values);

}  // namespace retort::nn
