// Differentiable conv2d (and conv2d followed by relu, fused). The backward computes only the
// gradients whose inputs require grad (the first layer of a network never needs the input
// gradient, the most expensive piece), and the lambda keeps x only when the weight gradient
// needs it.
#include "autograd/node.h"
#include "autograd/ops/nn_ops.h"
#include "tensor/conv.h"
#include "tensor/elementwise.h"

namespace retort {

namespace {

// Records conv2d (relu = false) or relu ∘ conv2d (relu = true; the backward first passes g
// through relu_backward with the saved output, exactly as the two separate nodes would).
Tensor record_conv(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& opt,
                   bool relu) {
  const ops::Conv2dParams p{opt.stride, opt.padding, opt.dilation, opt.groups};
  const bool nx = x.requires_grad(), nw = w.requires_grad(), nb = b.defined() && b.requires_grad();
  // The weight gradient reads x again; the forward can hand over x in the layout it used.
  ops::Conv2dSaved saved;
  const bool keep = nw && autograd::needs_grad({w});
  ops::Conv2dSaved* s = keep ? &saved : nullptr;
  Tensor y = relu ? ops::conv2d_relu_forward(x, w, b, p, s) : ops::conv2d_forward(x, w, b, p, s);
  Tensor saved_x = nw ? x : Tensor();
  Tensor saved_y = relu ? autograd::saved_output(y) : Tensor();
  auto backward = [saved_x, saved_y, saved, w, xs = x.sizes(), p, nx, nw, nb](const Tensor& g_in) {
    // g_in's last reader is this line, so the relu backward may reuse its memory (see relu()).
    const Tensor g = saved_y.defined() ? ops::relu_backward_reusing(g_in, saved_y) : g_in;
    ops::Conv2dGrads r;
    if (nw) {
      r = ops::conv2d_backward(g, saved_x, w, {nx, true, nb}, p, saved);
    } else {
      if (nx) r.input = ops::conv2d_backward_data(g, w, xs, p);
      if (nb) r.bias = ops::conv2d_backward_bias(g);
    }
    return autograd::Grads{r.input, r.weight, r.bias};
  };
  return autograd::record(relu ? "conv2d_relu" : "conv2d", {x, w, b}, y, backward);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& opt) {
  return record_conv(x, w, b, opt, false);
}

Tensor conv2d_relu(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& opt) {
  return record_conv(x, w, b, opt, true);
}

}  // namespace retort
