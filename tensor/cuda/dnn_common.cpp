// Descriptor construction for the cuDNN sources. Descriptors are created and set in the
// constructor (a failing set destroys the created handle before the error propagates, since a
// constructor that throws runs no destructor) and destroyed in the destructor, where a failing
// destroy cannot be reported and is ignored.
#include "tensor/cuda/dnn_common.h"

#include <climits>

#include "tensor/cuda/ops.h"
#include "tensor/error.h"

// Legacy cuDNN API on purpose; see dnn_common.h.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace retort::cuda {

namespace {

// Runs set(); when it throws, destroys the handle first (a constructor that throws runs no
// destructor), then rethrows.
template <class Handle, class Destroy, class Set>
void set_or_destroy(Handle& h, Destroy destroy, Set set) {
  try {
    set();
  } catch (...) {
    destroy(h);
    h = nullptr;
    throw;
  }
}

}  // namespace

cudnnDataType_t cudnn_type(DType dt, const char* op) {
  switch (dt) {
    case DType::Float32:
      return CUDNN_DATA_FLOAT;
    case DType::Float64:
      return CUDNN_DATA_DOUBLE;
    default:
      fail(op, ": cuDNN takes float32 or float64, got ", dtype_name(dt));
  }
}

int to_int(std::int64_t v, const char* op, const char* what) {
  RETORT_CHECK(v >= 0 && v <= INT_MAX, op, ": ", what, " ", v,
               " does not fit cuDNN's 32-bit descriptor fields");
  return static_cast<int>(v);
}

Dims4 nchw_of(const Tensor& t) {
  if (t.dim() == 2) return {t.size(0), t.size(1), 1, 1};
  RETORT_CHECK(t.dim() == 4, "cuda: expected a 2-D or 4-D tensor, got ", shape_str(t.sizes()));
  return {t.size(0), t.size(1), t.size(2), t.size(3)};
}

TensorDesc::TensorDesc(DType dt, const Dims4& s, const char* op) {
  RETORT_CUDA(cudnnCreateTensorDescriptor(&d_), op);
  set_or_destroy(d_, cudnnDestroyTensorDescriptor, [&] {
    // Packed strides; the batch stride must fit too (it is the largest).
    const std::int64_t ws = 1, hs = s[3], cs = s[2] * s[3], ns = s[1] * s[2] * s[3];
    RETORT_CUDA(cudnnSetTensor4dDescriptorEx(
                    d_, cudnn_type(dt, op), to_int(s[0], op, "batch size"), to_int(s[1], op, "channel count"),
                    to_int(s[2], op, "height"), to_int(s[3], op, "width"), to_int(ns, op, "batch stride"),
                    to_int(cs, op, "channel stride"), to_int(hs, op, "row stride"), static_cast<int>(ws)),
                op);
    // cuDNN addresses elements with 32-bit offsets in places; keep whole tensors below 2^31.
    RETORT_CHECK(s[0] * ns <= INT_MAX, op, ": tensor [", s[0], ",", s[1], ",", s[2], ",", s[3],
                 "] has more elements than cuDNN's 32-bit indexing allows");
  });
}

TensorDesc::~TensorDesc() {
  if (d_) cudnnDestroyTensorDescriptor(d_);
}

FilterDesc::FilterDesc(DType dt, const Dims4& s, const char* op) {
  RETORT_CUDA(cudnnCreateFilterDescriptor(&d_), op);
  set_or_destroy(d_, cudnnDestroyFilterDescriptor, [&] {
    RETORT_CUDA(cudnnSetFilter4dDescriptor(
                    d_, cudnn_type(dt, op), CUDNN_TENSOR_NCHW, to_int(s[0], op, "output channels"),
                    to_int(s[1], op, "input channels per group"), to_int(s[2], op, "kernel height"),
                    to_int(s[3], op, "kernel width")),
                op);
    RETORT_CHECK(s[0] * s[1] * s[2] * s[3] <= INT_MAX, op,
                 ": weight has more elements than cuDNN's 32-bit indexing allows");
  });
}

FilterDesc::~FilterDesc() {
  if (d_) cudnnDestroyFilterDescriptor(d_);
}

ConvDesc::ConvDesc(DType dt, const std::array<std::int64_t, 2>& padding,
                   const std::array<std::int64_t, 2>& stride, const std::array<std::int64_t, 2>& dilation,
                   std::int64_t groups, const char* op) {
  RETORT_CUDA(cudnnCreateConvolutionDescriptor(&d_), op);
  set_or_destroy(d_, cudnnDestroyConvolutionDescriptor, [&] {
    // The compute type is the data type: float32 accumulates in float (or TF32 when allowed, set
    // through the math type), float64 in double.
    RETORT_CUDA(cudnnSetConvolution2dDescriptor(
                    d_, to_int(padding[0], op, "padding"), to_int(padding[1], op, "padding"),
                    to_int(stride[0], op, "stride"), to_int(stride[1], op, "stride"),
                    to_int(dilation[0], op, "dilation"), to_int(dilation[1], op, "dilation"),
                    CUDNN_CROSS_CORRELATION, cudnn_type(dt, op)),
                op);
    RETORT_CUDA(cudnnSetConvolutionGroupCount(d_, to_int(groups, op, "groups")), op);
  });
}

ConvDesc::~ConvDesc() {
  if (d_) cudnnDestroyConvolutionDescriptor(d_);
}

PoolDesc::PoolDesc(cudnnPoolingMode_t mode, const std::array<std::int64_t, 2>& kernel,
                   const std::array<std::int64_t, 2>& padding, const std::array<std::int64_t, 2>& stride,
                   const char* op) {
  RETORT_CUDA(cudnnCreatePoolingDescriptor(&d_), op);
  set_or_destroy(d_, cudnnDestroyPoolingDescriptor, [&] {
    // NaN propagates through max pooling, as in the cpu reference and PyTorch.
    RETORT_CUDA(
        cudnnSetPooling2dDescriptor(d_, mode, CUDNN_PROPAGATE_NAN, to_int(kernel[0], op, "kernel"),
                                    to_int(kernel[1], op, "kernel"), to_int(padding[0], op, "padding"),
                                    to_int(padding[1], op, "padding"), to_int(stride[0], op, "stride"),
                                    to_int(stride[1], op, "stride")),
        op);
  });
}

PoolDesc::~PoolDesc() {
  if (d_) cudnnDestroyPoolingDescriptor(d_);
}

ActivationDesc::ActivationDesc(cudnnActivationMode_t mode, const char* op) {
  RETORT_CUDA(cudnnCreateActivationDescriptor(&d_), op);
  set_or_destroy(d_, cudnnDestroyActivationDescriptor,
                 [&] { RETORT_CUDA(cudnnSetActivationDescriptor(d_, mode, CUDNN_PROPAGATE_NAN, 0.0), op); });
}

ActivationDesc::~ActivationDesc() {
  if (d_) cudnnDestroyActivationDescriptor(d_);
}

void zero_(const Tensor& t, const char* op) {
  RETORT_CHECK(t.is_contiguous(), op, ": internal: zero_ needs a packed tensor, got strides ",
               shape_str(t.strides()));
  if (t.numel() == 0) return;
  RETORT_CUDA(
      cudaMemsetAsync(t.raw_data(), 0, static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype()), stream()),
      op);
}

Tensor param_or(const Tensor& p, std::int64_t C, double fill, const Tensor& like) {
  if (p.defined()) return p.contiguous();
  Tensor t = empty({C}, like.dtype(), like.device());
  cuda::fill_(t, fill);  // a kernel on the stream: no host round trip, no synchronisation
  return t;
}

}  // namespace retort::cuda

#pragma GCC diagnostic pop
