// Differentiable elementwise ops. Each forward runs the raw op; the backward lambda captures only
// the tensors its derivative needs, and broadcast gradients are summed back with ops::sum_to.
#include "autograd/ops/elementwise.h"

#include "autograd/node.h"
#include "tensor/elementwise.h"
#include "tensor/reduce.h"

namespace retort {

using autograd::Grads;
using autograd::record;

namespace {

// Gradient for an operand of shape `shape` from a gradient of the broadcast result.
Tensor reduce_to(const Tensor& g, const Shape& shape) {
  return g.sizes() == shape ? g : ops::sum_to(g, shape);
}

}  // namespace

Tensor neg(const Tensor& x) {
  return record("neg", {x}, ops::neg(x), [](const Tensor& g) { return Grads{ops::neg(g)}; });
}

Tensor abs(const Tensor& x) {
  return record("abs", {x}, ops::abs(x), [x](const Tensor& g) { return Grads{ops::mul(g, ops::sign(x))}; });
}

Tensor exp(const Tensor& x) {
  Tensor y = ops::exp(x);
  return record("exp", {x}, y, [y = autograd::saved_output(y)](const Tensor& g) { return Grads{ops::mul(g, y)}; });
}

Tensor log(const Tensor& x) {
  return record("log", {x}, ops::log(x), [x](const Tensor& g) { return Grads{ops::div(g, x)}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = ops::sqrt(x);
  // d√x = 1 / (2√x)
  return record("sqrt", {x}, y, [y = autograd::saved_output(y)](const Tensor& g) { return Grads{ops::div(ops::mul_scalar(g, 0.5), y)}; });
}

Tensor pow(const Tensor& x, double p) {
  return record("pow", {x}, ops::pow(x, p), [x, p](const Tensor& g) {
    return Grads{ops::mul(g, ops::mul_scalar(ops::pow(x, p - 1), p))};
  });
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  return record("clamp", {x}, ops::clamp(x, lo, hi), [x, lo, hi](const Tensor& g) {
    Tensor inside = ops::mul(ops::ge(x, full({}, lo, x.dtype(), x.device())),
                             ops::le(x, full({}, hi, x.dtype(), x.device())));
    return Grads{ops::mul(g, inside)};
  });
}

Tensor relu(const Tensor& x) {
  Tensor y = ops::relu(x);
  // g is the engine's gradient for this node and this is its last reader, so the result may reuse
  // g's memory when nothing else holds it.
  return record("relu", {x}, y, [y = autograd::saved_output(y)](const Tensor& g) {
    return Grads{ops::relu_backward_reusing(g, y)};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = ops::sigmoid(x);
  return record("sigmoid", {x}, y, [y = autograd::saved_output(y)](const Tensor& g) { return Grads{ops::sigmoid_backward(g, y)}; });
}

Tensor tanh(const Tensor& x) {
  Tensor y = ops::tanh(x);
  return record("tanh", {x}, y, [y = autograd::saved_output(y)](const Tensor& g) { return Grads{ops::tanh_backward(g, y)}; });
}

// Composite: where() sends the gradient to x·1 or to x·slope by the same mask PyTorch's backward
// uses (x > 0), so values and gradients are exact; no hand-written backward is needed.
Tensor leaky_relu(const Tensor& x, double slope) {
  return where(gt(x, scalar_tensor(0.0, x.dtype(), x.device())), x, x * slope);
}

Tensor add(const Tensor& a, const Tensor& b) {
  return record("add", {a, b}, ops::add(a, b), [sa = a.sizes(), sb = b.sizes()](const Tensor& g) {
    return Grads{reduce_to(g, sa), reduce_to(g, sb)};
  });
}

Tensor add_relu(const Tensor& a, const Tensor& b) {
  Tensor y = ops::add_relu(a, b);
  return record("add_relu", {a, b}, y, [y = autograd::saved_output(y)](const Tensor& g) {
    Tensor m = ops::relu_backward_reusing(g, y);
    return Grads{m, m};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return record("sub", {a, b}, ops::sub(a, b), [sa = a.sizes(), sb = b.sizes()](const Tensor& g) {
    return Grads{reduce_to(g, sa), reduce_to(ops::neg(g), sb)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  bool ga = a.requires_grad(), gb = b.requires_grad();
  return record("mul", {a, b}, ops::mul(a, b), [a, b, ga, gb](const Tensor& g) {
    return Grads{ga ? reduce_to(ops::mul(g, b), a.sizes()) : Tensor(),
                 gb ? reduce_to(ops::mul(g, a), b.sizes()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  bool ga = a.requires_grad(), gb = b.requires_grad();
  return record("div", {a, b}, ops::div(a, b), [a, b, ga, gb](const Tensor& g) {
    // d(a/b)/db = −a/b²
    Tensor gb_full = gb ? ops::neg(ops::div(ops::mul(g, a), ops::mul(b, b))) : Tensor();
    return Grads{ga ? reduce_to(ops::div(g, b), a.sizes()) : Tensor(),
                 gb ? reduce_to(gb_full, b.sizes()) : Tensor()};
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return record("maximum", {a, b}, ops::maximum(a, b), [a, b](const Tensor& g) {
    Tensor take_a = ops::ge(a, b);
    return Grads{reduce_to(ops::mul(g, take_a), a.sizes()),
                 reduce_to(ops::mul(g, ops::rsub_scalar(take_a, 1.0)), b.sizes())};
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return record("minimum", {a, b}, ops::minimum(a, b), [a, b](const Tensor& g) {
    Tensor take_a = ops::le(a, b);
    return Grads{reduce_to(ops::mul(g, take_a), a.sizes()),
                 reduce_to(ops::mul(g, ops::rsub_scalar(take_a, 1.0)), b.sizes())};
  });
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  Tensor out = ops::where(mask, a, b);
  return record("where", {Tensor(), a, b}, out, [mask, sa = a.sizes(), sb = b.sizes()](const Tensor& g) {
    Tensor zero = zeros({}, g.dtype(), g.device());
    return Grads{Tensor(), reduce_to(ops::where(mask, g, zero), sa), reduce_to(ops::where(mask, zero, g), sb)};
  });
}

Tensor detach(const Tensor& x) { return as_strided(x, x.sizes(), x.strides(), x.offset()); }

Tensor round(const Tensor& x) { return ops::round(x); }

Tensor eq(const Tensor& a, const Tensor& b) { return ops::eq(a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return ops::ne(a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return ops::lt(a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return ops::le(a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return ops::gt(a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return ops::ge(a, b); }

}  // namespace retort
