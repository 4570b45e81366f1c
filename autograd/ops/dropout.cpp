// Inverted dropout (declared in autograd/ops/nn_ops.h). The kept-element mask is drawn from the
// global generator on x's device and pre-scaled by 1/(1−p), so the forward is one multiply and
// the backward is the same multiply: ∂y/∂x = mask/(1−p). Scaling at training time keeps eval an
// identity.
#include "autograd/node.h"
#include "autograd/ops/nn_ops.h"
#include "tensor/elementwise.h"
#include "tensor/random.h"

namespace retort {

Tensor dropout(const Tensor& x, double p, bool training) {
  RETORT_CHECK(p >= 0.0 && p < 1.0, "dropout: p must be in [0, 1), got ", p, " for input ",
               shape_str(x.sizes()));
  if (!training || p == 0.0) return x;
  Tensor mask = empty(x.sizes(), x.dtype(), x.device());
  bernoulli_(mask, 1.0 - p);
  ops::mul_scalar_(mask, 1.0 / (1.0 - p));
  return autograd::record("dropout", {x}, ops::mul(x, mask), [mask](const Tensor& g) {
    return autograd::Grads{ops::mul(g, mask)};
  });
}

}  // namespace retort
