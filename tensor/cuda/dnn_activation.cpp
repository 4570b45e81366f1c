// ReLU, sigmoid and tanh on cuDNN. Elementwise, so the layout does not matter: operands are
// packed and described as flat [1, n, 1, 1] tensors, in chunks below cuDNN's 32-bit element limit.
//
// The backward takes (g, y) only, while cudnnActivationBackward also has an x argument. y is passed
// for x: cuDNN derives sigmoid's and tanh's derivatives from y (y(1−y), 1−y²), and ReLU's mask
// [x > 0] equals [y > 0], so the result is the same as with the true x.
#include <algorithm>

#include "tensor/cuda/dnn_common.h"
#include "tensor/cuda/ops.h"
#include "tensor/error.h"

// Legacy cuDNN API on purpose; see dnn_common.h.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace retort::cuda {

namespace {

constexpr std::int64_t kChunk = std::int64_t{1} << 30;

cudnnActivationMode_t mode_of(Activation kind) {
  switch (kind) {
    case Activation::Relu:
      return CUDNN_ACTIVATION_RELU;
    case Activation::Sigmoid:
      return CUDNN_ACTIVATION_SIGMOID;
    case Activation::Tanh:
      return CUDNN_ACTIVATION_TANH;
  }
  fail("cuda activation: unknown kind");
}

// The address of element i of packed t.
void* at(const Tensor& t, std::int64_t i) {
  return static_cast<char*>(t.raw_data()) + i * static_cast<std::int64_t>(dtype_size(t.dtype()));
}

}  // namespace

Tensor activation_forward(Activation kind, const Tensor& x) {
  const char* op = "cuda activation_forward";
  check_cuda_tensor(x, op, "input");
  DeviceGuard guard(x);
  const Tensor xc = x.contiguous();
  Tensor y = empty(x.sizes(), x.dtype(), x.device());
  const ActivationDesc act(mode_of(kind), op);
  const Blend blend(x.dtype());
  for (std::int64_t i = 0; i < y.numel(); i += kChunk) {
    const TensorDesc d(x.dtype(), {1, std::min(kChunk, y.numel() - i), 1, 1}, op);
    RETORT_CUDA(cudnnActivationForward(cudnn(), act.get(), blend.one(), d.get(), at(xc, i), blend.zero(),
                                       d.get(), at(y, i)),
                op);
  }
  return y;
}

Tensor activation_backward(Activation kind, const Tensor& g, const Tensor& y) {
  const char* op = "cuda activation_backward";
  check_cuda_tensor(g, op, "grad");
  check_cuda_tensor(y, op, "output");
  RETORT_CHECK(g.sizes() == y.sizes() && g.dtype() == y.dtype() && g.device() == y.device(), op, ": grad ",
               shape_str(g.sizes()), " ", dtype_name(g.dtype()), " on ", g.device().str(), " and output ",
               shape_str(y.sizes()), " ", dtype_name(y.dtype()), " on ", y.device().str(),
               " must match in shape, dtype and device");
  DeviceGuard guard(y);
  const Tensor gc = g.contiguous(), yc = y.contiguous();
  Tensor gx = empty(y.sizes(), y.dtype(), y.device());
  const ActivationDesc act(mode_of(kind), op);
  const Blend blend(y.dtype());
  for (std::int64_t i = 0; i < gx.numel(); i += kChunk) {
    const TensorDesc d(y.dtype(), {1, std::min(kChunk, gx.numel() - i), 1, 1}, op);
    RETORT_CUDA(cudnnActivationBackward(cudnn(), act.get(), blend.one(), d.get(), at(yc, i), d.get(),
                                        at(gc, i), d.get(), at(yc, i), blend.zero(), d.get(), at(gx, i)),
                op);
  }
  return gx;
}

}  // namespace retort::cuda

#pragma GCC diagnostic pop
