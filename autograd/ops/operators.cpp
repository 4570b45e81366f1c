// Operator sugar over the differentiable ops. Scalars become 0-d tensors of the other operand's
// dtype, so `x * 0.5` records one mul node and broadcasts like any binary op.
#include "autograd/ops/elementwise.h"

namespace retort {

namespace {
Tensor lift(double s, const Tensor& like) { return full({}, s, like.dtype(), like.device()); }
}  // namespace

Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double s) { return add(a, lift(s, a)); }
Tensor operator-(const Tensor& a, double s) { return sub(a, lift(s, a)); }
Tensor operator*(const Tensor& a, double s) { return mul(a, lift(s, a)); }
Tensor operator/(const Tensor& a, double s) { return div(a, lift(s, a)); }
Tensor operator+(double s, const Tensor& a) { return add(lift(s, a), a); }
Tensor operator-(double s, const Tensor& a) { return sub(lift(s, a), a); }
Tensor operator*(double s, const Tensor& a) { return mul(lift(s, a), a); }
Tensor operator/(double s, const Tensor& a) { return div(lift(s, a), a); }

}  // namespace retort
