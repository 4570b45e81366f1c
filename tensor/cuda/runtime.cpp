// The CUDA runtime side of the backend: one stream per device with cuBLAS and cuDNN handles bound
// to it (created on first use, kept for the process), status checks that turn every failing call
// into a retort::Error naming the call and the op, and the synchronous host↔device copies the
// tensor layer uses. Work is stream-ordered, which is what lets the caching allocator hand a
// freed block to the next op without waiting for the GPU.
#include <array>
#include <atomic>
#include <mutex>

#include "tensor/cuda/common.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/error.h"

namespace retort::cuda {

namespace {

constexpr int kMaxDevices = 16;

struct PerDevice {
  std::once_flag once;
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
};

std::array<PerDevice, kMaxDevices>& devices() {
  static std::array<PerDevice, kMaxDevices> d;
  return d;
}

std::atomic<bool> g_tf32{false};

int current_device() {
  int d = 0;
  RETORT_CUDA(cudaGetDevice(&d), "cuda runtime");
  RETORT_CHECK(d >= 0 && d < kMaxDevices, "cuda runtime: device ", d, " is beyond the ",
               kMaxDevices, " devices Retort supports");
  return d;
}

PerDevice& this_device() {
  PerDevice& pd = devices()[current_device()];
  std::call_once(pd.once, [&] {
    RETORT_CUDA(cudaStreamCreateWithFlags(&pd.stream, cudaStreamNonBlocking), "cuda runtime");
    RETORT_CUDA(cublasCreate(&pd.cublas), "cuda runtime");
    RETORT_CUDA(cublasSetStream(pd.cublas, pd.stream), "cuda runtime");
    RETORT_CUDA(cudnnCreate(&pd.cudnn), "cuda runtime");
    RETORT_CUDA(cudnnSetStream(pd.cudnn, pd.stream), "cuda runtime");
  });
  return pd;
}

}  // namespace

cudaStream_t stream() { return this_device().stream; }
cublasHandle_t cublas() { return this_device().cublas; }
cudnnHandle_t cudnn() { return this_device().cudnn; }

void check(cudaError_t status, const char* call, const char* op) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear the sticky-free error state so the next call starts clean
  fail(op, ": CUDA error ", cudaGetErrorName(status), " (", cudaGetErrorString(status), ") in ", call);
}

void check(cublasStatus_t status, const char* call, const char* op) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail(op, ": cuBLAS error ", cublasGetStatusName(status), " (", cublasGetStatusString(status),
       ") in ", call);
}

void check(cudnnStatus_t status, const char* call, const char* op) {
  if (status == CUDNN_STATUS_SUCCESS) return;
  fail(op, ": cuDNN error ", cudnnGetErrorString(status), " in ", call);
}

DeviceGuard::DeviceGuard(const Tensor& t) {
  const int want = t.device().index;
  RETORT_CUDA(cudaGetDevice(&previous_), "DeviceGuard");
  if (want != previous_) {
    RETORT_CUDA(cudaSetDevice(want), "DeviceGuard");
    switched_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (switched_) cudaSetDevice(previous_);
}

Workspace::Workspace(std::size_t nbytes, int device) : nbytes_(nbytes), device_(device) {
  if (nbytes_ > 0) ptr_ = allocate(nbytes_, device_);
}

Workspace::~Workspace() {
  if (ptr_) release(ptr_, device_);
}

void check_cuda_tensor(const Tensor& t, const char* op, const char* what) {
  RETORT_CHECK(t.defined(), op, ": ", what, " is undefined");
  RETORT_CHECK(t.device().is_cuda(), op, ": ", what, " ", shape_str(t.sizes()), " is on ",
               t.device().str(), ", expected a cuda tensor");
}

bool available() { return device_count() > 0; }

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: report none rather than throw
    return 0;
  }
  return n;
}

void copy_to_device(void* dst, const void* src, std::size_t nbytes, int device) {
  if (nbytes == 0) return;
  RETORT_CUDA(cudaSetDevice(device), "copy_to_device");
  RETORT_CUDA(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, stream()), "copy_to_device");
  // Pageable sources are staged before cudaMemcpyAsync returns, but a pinned one would not be:
  // synchronising keeps "the source may be reused" true for both.
  RETORT_CUDA(cudaStreamSynchronize(stream()), "copy_to_device");
}

void copy_to_host(void* dst, const void* src, std::size_t nbytes, int device) {
  if (nbytes == 0) return;
  RETORT_CUDA(cudaSetDevice(device), "copy_to_host");
  RETORT_CUDA(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, stream()), "copy_to_host");
  RETORT_CUDA(cudaStreamSynchronize(stream()), "copy_to_host");
}

void synchronize() {
  if (!available()) return;
  RETORT_CUDA(cudaStreamSynchronize(stream()), "cuda::synchronize");
}

void* native_stream() { return stream(); }

void set_allow_tf32(bool on) { g_tf32 = on; }
bool allow_tf32() { return g_tf32; }

}  // namespace retort::cuda
