// Shared pieces of the cuDNN sources (dnn_*.cpp, bn_kernels.cu; never included outside
// tensor/cuda/): RAII descriptors, dtype → cudnnDataType_t, the alpha/beta blend factors cuDNN
// reads from host memory, checks that sizes fit cuDNN's 32-bit descriptor fields, and the
// batch-norm kernels that complement cuDNN.
//
// Every tensor handed to cuDNN is packed NCHW (callers pack with Tensor::contiguous()), so a
// descriptor is built from sizes alone with packed strides. Sizes are int in cuDNN's legacy API:
// anything larger is rejected with an error naming the op, never truncated.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "tensor/batch_norm.h"
#include "tensor/cuda/common.h"

// cuDNN 9 marks the legacy descriptor API (filter, convolution, pooling and activation
// descriptors and the calls taking them) deprecated in favour of its graph API. Retort uses the
// legacy API on purpose: it covers these ops completely, is documented and stable through cuDNN
// 9, and needs no graph building per call. Only -Wdeprecated-declarations is silenced, and only
// in the cuDNN sources (each pushes and pops the diagnostic state around its own code).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace retort::cuda {

using Dims4 = std::array<std::int64_t, 4>;

cudnnDataType_t cudnn_type(DType dt, const char* op);

// v as an int for a cuDNN descriptor field; fails naming op and what when it does not fit.
int to_int(std::int64_t v, const char* op, const char* what);

// t's sizes as [N, C, H, W]: 4-D as is, 2-D [N, C] as [N, C, 1, 1].
Dims4 nchw_of(const Tensor& t);

// Host-side alpha = 1 and beta = 0/1 of cuDNN's "y = alpha·op(x) + beta·y": double for double
// data, float otherwise (cuDNN reads them with the data's precision).
class Blend {
 public:
  explicit Blend(DType dt) : dbl_(dt == DType::Float64) {}
  const void* one() const { return dbl_ ? static_cast<const void*>(&d1_) : &f1_; }
  const void* zero() const { return dbl_ ? static_cast<const void*>(&d0_) : &f0_; }

 private:
  bool dbl_;
  float f0_ = 0.f, f1_ = 1.f;
  double d0_ = 0.0, d1_ = 1.0;
};

// A packed NCHW tensor descriptor.
class TensorDesc {
 public:
  TensorDesc(DType dt, const Dims4& sizes, const char* op);
  ~TensorDesc();
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

// A packed [O, C/G, KH, KW] filter descriptor.
class FilterDesc {
 public:
  FilterDesc(DType dt, const Dims4& sizes, const char* op);
  ~FilterDesc();
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
  cudnnFilterDescriptor_t get() const { return d_; }

 private:
  cudnnFilterDescriptor_t d_ = nullptr;
};

// Cross-correlation (what deep learning calls convolution) with padding, stride, dilation and
// groups; math type set separately (see dnn_conv.cpp).
class ConvDesc {
 public:
  ConvDesc(DType dt, const std::array<std::int64_t, 2>& padding, const std::array<std::int64_t, 2>& stride,
           const std::array<std::int64_t, 2>& dilation, std::int64_t groups, const char* op);
  ~ConvDesc();
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
  cudnnConvolutionDescriptor_t get() const { return d_; }

 private:
  cudnnConvolutionDescriptor_t d_ = nullptr;
};

class PoolDesc {
 public:
  PoolDesc(cudnnPoolingMode_t mode, const std::array<std::int64_t, 2>& kernel,
           const std::array<std::int64_t, 2>& padding, const std::array<std::int64_t, 2>& stride,
           const char* op);
  ~PoolDesc();
  PoolDesc(const PoolDesc&) = delete;
  PoolDesc& operator=(const PoolDesc&) = delete;
  cudnnPoolingDescriptor_t get() const { return d_; }

 private:
  cudnnPoolingDescriptor_t d_ = nullptr;
};

class ActivationDesc {
 public:
  ActivationDesc(cudnnActivationMode_t mode, const char* op);
  ~ActivationDesc();
  ActivationDesc(const ActivationDesc&) = delete;
  ActivationDesc& operator=(const ActivationDesc&) = delete;
  cudnnActivationDescriptor_t get() const { return d_; }

 private:
  cudnnActivationDescriptor_t d_ = nullptr;
};

// t ← 0 (t packed, on the current device), queued on the backend's stream.
void zero_(const Tensor& t, const char* op);

// The [C] parameter p packed on `like`'s device, or `fill` everywhere when p is undefined.
Tensor param_or(const Tensor& p, std::int64_t C, double fill, const Tensor& like);

// ---- own kernels behind dnn_batch_norm.cpp (bn_kernels.cu) ------------------------------------
// The conversions between the tensor layer's batch variance and cuDNN's saved inverse standard
// deviation, and the eval-mode backward, which cuDNN does not offer (its backward assumes batch
// statistics). Channel tensors are [C]; data tensors packed NCHW ([N, C] is [N, C, 1, 1]).

// var[c] = 1/invstd[c]² − eps: the biased batch variance σ² from cuDNN's 1/√(σ² + eps). Packed.
Tensor bn_var_from_invstd(const Tensor& invstd, double eps);

// invstd[c] = 1/√(var[c] + eps). var may have any stride; the result is packed.
Tensor bn_invstd_from_var(const Tensor& var, double eps);

// Eval-mode gradients with constant μ = mean, σ² = var, x̂ = (x − μ)/√(σ² + eps):
//   gx = g·γ/√(σ² + eps),  gweight = Σ_{n,h,w} g·x̂,  gbias = Σ_{n,h,w} g.
// weight undefined means γ = 1. Sums accumulate in double, one block per channel, so the result
// is deterministic.
ops::BatchNormGrads bn_eval_backward(const Tensor& g, const Tensor& x, const Tensor& weight,
                                     const Tensor& mean, const Tensor& var, double eps);

}  // namespace retort::cuda

#pragma GCC diagnostic pop
