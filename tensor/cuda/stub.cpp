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
void* allocate(std::size_t, int) { no_cuda("cuda::allocate"); }
void release(void*, int) {}
void copy_to_device(void*, const void*, std::size_t, int) { no_cuda("cuda::copy_to_device"); }
void copy_to_host(void*, const void*, std::size_t, int) { no_cuda("cuda::copy_to_host"); }

}  // namespace retort::cuda
#endif
