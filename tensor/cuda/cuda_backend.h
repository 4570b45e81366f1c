// The GPU backend's runtime entry points used by the tensor layer and by programs (namespace
// retort::cuda). Built from tensor/cuda/ when RETORT_WITH_CUDA is ON; otherwise stub.cpp supplies
// versions that report "no CUDA" (available() is false, device_count() 0) or throw a clear error.
#pragma once
#include <cstddef>

namespace retort::cuda {

bool available();   // built with CUDA and at least one device is present
int device_count(); // 0 without CUDA or without a device

// Caching device allocator: freed blocks are kept per device and size class and handed out again,
// so a training step does no cudaMalloc after its first iteration. Blocks are 256-byte aligned.
void* allocate(std::size_t nbytes, int device);
void release(void* p, int device);
void empty_cache();  // returns every cached (unused) block to the driver

struct MemoryStats {
  std::size_t allocated = 0;       // bytes in live tensors
  std::size_t peak_allocated = 0;  // high-water mark since the last reset
  std::size_t cached = 0;          // bytes held in the cache, not in use
  std::size_t device_mallocs = 0;  // cudaMalloc calls so far
};
MemoryStats memory_stats();
void reset_peak_memory();

// Packed copies (nbytes) on the backend's stream; the host side is synchronous: copy_to_host
// returns when the bytes are on the host, copy_to_device when the source may be reused.
void copy_to_device(void* dst, const void* src, std::size_t nbytes, int device);
void copy_to_host(void* dst, const void* src, std::size_t nbytes, int device);
void synchronize();  // waits for all queued GPU work
// The backend's stream on the current device, as a cudaStream_t, for libraries that queue work in
// order with Retort's (NCCL collectives in dist/).
void* native_stream();

// TF32 tensor-core math for float32 matmuls and convolutions (off by default: exact float32).
void set_allow_tf32(bool on);
bool allow_tf32();

}  // namespace retort::cuda
