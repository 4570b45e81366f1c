// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), readable
// by PyTorch (`safetensors.torch.load_file`) and written by it:
//
//   [8 bytes: header length H, unsigned little-endian]
//   [H bytes: JSON header, padded with spaces]
//       { "__metadata__": {"key": "value", ...},                       (optional)
//         "<tensor name>": {"dtype": "F32" | "F64" | "I64",
//                           "shape": [d0, d1, ...],
//                           "data_offsets": [begin, end]}, ... }        (bytes, [begin, end),
//   [data section: every tensor's row-major little-endian bytes]          relative to the data)
//
// Saving writes "<path>.tmp" and renames it over <path> only once it is complete, so a crash or
// a full disk never leaves a half-written checkpoint in place of a good one.
//
// Loading validates before building anything: the header length fits in the file, the header
// is a JSON object, every entry has a supported dtype, a non-negative shape and offsets inside
// the data section whose length equals numel·dtype size, and the tensors exactly tile the data
// section (no overlap, no gap, nothing after the last one — a truncated file fails here).
// Errors read "load_safetensors: '<path>': tensor '<name>': <problem>".
#pragma once
#include <map>
#include <string>

#include "nn/module.h"

namespace retort::nn {

using Metadata = std::map<std::string, std::string>;

// Saves tensors (any device/layout; stored as packed CPU bytes) in the given order.
void save_safetensors(const NamedTensors& tensors, const std::string& path,
                      const Metadata& metadata = {});
void save_safetensors(const TensorMap& tensors, const std::string& path,
                      const Metadata& metadata = {});
// Saves module.state_dict() (parameters and persistent buffers, PyTorch names and order).
void save_safetensors(const Module& module, const std::string& path, const Metadata& metadata = {});

// Reads every tensor (CPU) of a safetensors file; fills *metadata when given.
TensorMap load_safetensors(const std::string& path, Metadata* metadata = nullptr);
// module.load_state_dict(load_safetensors(path), strict): all-or-nothing (see Module).
void load_safetensors(Module& module, const std::string& path, bool strict = true);

}  // namespace retort::nn
