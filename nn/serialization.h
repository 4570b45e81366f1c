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
// Saving goes through AtomicFile (tensor/atomic_file.h): a temporary file beside <path>, fsynced
// and renamed over <path> only once it is complete, so a crash or a full disk never leaves a
// half-written checkpoint in place of a good one (a write error throws, and the old file stays).
//
// Loading treats the file as untrusted and validates before allocating anything: the path is a
// regular file (not a directory or device), the header length fits in the file (and 100 MB), the
// header is a JSON object nesting at most 64 levels, every entry has a supported dtype, at most
// 64 dimensions whose non-zero sizes multiply to less than 2^63 bytes (so no stride or offset can
// overflow, zero-sized dimensions included), offsets inside the data section whose length equals
// numel·dtype size, and the tensors exactly tile the data section (no overlap, no gap, nothing
// after the last one — a truncated file fails here). Only then are the tensors allocated and
// read. Errors read "load_safetensors: '<path>': tensor '<name>': <problem>"; they quote header
// values only briefly (names cut at 80 bytes, long or nested arrays by their size).
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
