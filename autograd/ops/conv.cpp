// Differentiable conv2d. The backward computes only the gradients whose inputs require grad (the
// first layer of a network never needs the input gradient, the most expensive piece), and the
// lambda keeps x only when the weight gradient needs it.
#include "autograd/node.h"
#include "autograd/ops/nn_ops.h"
#include "tensor/conv.h"

namespace retort {

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& opt) {
  const ops::Conv2dParams p{opt.stride, opt.padding, opt.dilation, opt.groups};
  const bool nx = x.requires_grad(), nw = w.requires_grad(), nb = b.defined() && b.requires_grad();
  // The weight gradient reads x again; the forward can hand over x in the layout it used.
  ops::Conv2dSaved saved;
  const bool keep = nw && autograd::needs_grad({w});
  Tensor y = ops::conv2d_forward(x, w, b, p, keep ? &saved : nullptr);
  Tensor saved_x = nw ? x : Tensor();
  auto backward = [saved_x, saved, w, xs = x.sizes(), p, nx, nw, nb](const Tensor& g) {
    ops::Conv2dGrads r;
    if (nw) {
      r = ops::conv2d_backward(g, saved_x, w, {nx, true, nb}, p, saved);
    } else {
      if (nx) r.input = ops::conv2d_backward_data(g, w, xs, p);
      if (nb) r.bias = ops::conv2d_backward_bias(g);
    }
    return autograd::Grads{r.input, r.weight, r.bias};
  };
  return autograd::record("conv2d", {x, w, b}, y, backward);
}

}  // namespace retort
