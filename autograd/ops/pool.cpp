// Differentiable pooling. max_pool2d keeps the forward's state (argmax indices or the oneDNN
// workspace) instead of x; the average pools keep only x's shape.
#include "autograd/node.h"
#include "autograd/ops/nn_ops.h"
#include "tensor/pool.h"

namespace retort {

namespace {

// Stride 0 means "same as the kernel" (the PyTorch default).
ops::Pool2dParams params(std::array<std::int64_t, 2> kernel, std::array<std::int64_t, 2> stride,
                         std::array<std::int64_t, 2> padding) {
  ops::Pool2dParams p;
  p.kernel = kernel;
  p.padding = padding;
  for (int d = 0; d < 2; ++d) p.stride[d] = stride[d] == 0 ? kernel[d] : stride[d];
  return p;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, std::array<std::int64_t, 2> kernel,
                  std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding) {
  auto r = ops::max_pool2d_forward(x, params(kernel, stride, padding), autograd::needs_grad({x}));
  return autograd::record("max_pool2d", {x}, r.output, [state = r.state](const Tensor& g) {
    return autograd::Grads{ops::max_pool2d_backward(g, *state)};
  });
}

Tensor avg_pool2d(const Tensor& x, std::array<std::int64_t, 2> kernel,
                  std::array<std::int64_t, 2> stride, std::array<std::int64_t, 2> padding,
                  bool count_include_pad) {
  const ops::Pool2dParams p = params(kernel, stride, padding);
  Tensor y = ops::avg_pool2d_forward(x, p, count_include_pad);
  return autograd::record(
      "avg_pool2d", {x}, y, [xs = x.sizes(), p, count_include_pad](const Tensor& g) {
        return autograd::Grads{ops::avg_pool2d_backward(g, xs, p, count_include_pad)};
      });
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::array<std::int64_t, 2> output_size) {
  Tensor y = ops::adaptive_avg_pool2d_forward(x, output_size);
  return autograd::record("adaptive_avg_pool2d", {x}, y, [xs = x.sizes()](const Tensor& g) {
    return autograd::Grads{ops::adaptive_avg_pool2d_backward(g, xs)};
  });
}

}  // namespace retort
