// Internals shared by the CUDA backend's sources (never included outside tensor/cuda/): the one
// stream and the library handles bound to it, status checks that name the failing call and the
// op, scratch memory from the caching allocator, and launch geometry (strided iteration over
// tensors lives in strided.cuh).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>

#include "tensor/tensor.h"

namespace retort::cuda {

// The backend queues all work on one stream per process (device 0 unless a tensor says otherwise;
// the current device is switched to the tensor's before each op by DeviceGuard).
cudaStream_t stream();
cublasHandle_t cublas();  // bound to stream(), pointer mode host
cudnnHandle_t cudnn();    // bound to stream()

// Throw retort::Error naming the call, the op and the library's message.
void check(cudaError_t status, const char* call, const char* op);
void check(cublasStatus_t status, const char* call, const char* op);
void check(cudnnStatus_t status, const char* call, const char* op);
#define RETORT_CUDA(call, op) ::retort::cuda::check((call), #call, (op))
// After a kernel launch: reports launch-configuration errors with the kernel's op name.
#define RETORT_CUDA_LAUNCH(op) ::retort::cuda::check(cudaGetLastError(), "kernel launch", (op))

// Makes t's device current for the scope (multi-GPU safety; a no-op on one GPU).
class DeviceGuard {
 public:
  explicit DeviceGuard(const Tensor& t);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool switched_ = false;
};

// Device scratch memory from the caching allocator, released at scope end.
class Workspace {
 public:
  Workspace(std::size_t nbytes, int device);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get() const { return ptr_; }
  std::size_t size() const { return nbytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t nbytes_ = 0;
  int device_ = 0;
};

// Most dims a kernel's strided iteration takes after merging (strided.cuh).
constexpr int kMaxDims = 8;

// Launch geometry for a 1-D grid over n elements. The grid is capped, so kernels walk their range
// with a grid-stride loop.
constexpr int kThreads = 256;
inline unsigned blocks_for(std::int64_t n) {
  std::int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > 65535LL * 16 ? 65535LL * 16 : b));
}

// The device pointer of t's first element, typed.
template <class T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

// Checks that t is a defined tensor on a cuda device (helpers call it for every operand).
void check_cuda_tensor(const Tensor& t, const char* op, const char* what);

}  // namespace retort::cuda
