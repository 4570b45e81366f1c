// Compiled when Retort is built without CUDA: every GPU entry point says so plainly instead of
// failing somewhere deeper (the CUDA build replaces this file with the real backend).
#include "retort_config.h"
#if !RETORT_WITH_CUDA
#include "tensor/cuda/cuda_backend.h"
#include "tensor/error.h"

namespace retort::cuda {

namespace {
[[noreturn]] void no_cuda(const char* what) {
  fail(what, ": Retort was built without CUDA (configure with -DRETORT_WITH_CUDA=ON)");
}
}  // namespace

bool available() { return false; }
int device_count() { return 0; }
void* allocate(std::size_t, int) { no_cuda("cuda::allocate"); }
void release(void*, int) {}
void empty_cache() {}
MemoryStats memory_stats() { return {}; }
void reset_peak_memory() {}
void copy_to_device(void*, const void*, std::size_t, int) { no_cuda("cuda::copy_to_device"); }
void copy_to_host(void*, const void*, std::size_t, int) { no_cuda("cuda::copy_to_host"); }
void synchronize() {}
void* native_stream() { no_cuda("cuda::native_stream"); }
void set_allow_tf32(bool on) {
  if (on) no_cuda("cuda::set_allow_tf32");
}
bool allow_tf32() { return false; }

}  // namespace retort::cuda
#endif
