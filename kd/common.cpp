// Helpers shared by the kd/ losses. The normalisation deliberately clamps the squared norm (not
// the norm) so the square root never sees 0: its derivative there is infinite, and a masked-out
// inf still poisons the graph as inf·0 = NaN.
#include "kd/common.h"

#include <cmath>
#include <limits>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "tensor/error.h"

namespace retort::kd {

void check_same_shape(const char* op, const Tensor& s, const Tensor& t, const char* what) {
  RETORT_CHECK(s.defined() && t.defined(), op, ": student and teacher ", what, " must be defined");
  RETORT_CHECK(s.sizes() == t.sizes(), op, ": student ", what, " ", shape_str(s.sizes()),
               " and teacher ", what, " ", shape_str(t.sizes()), " must have the same shape");
  RETORT_CHECK(s.dtype() == t.dtype(), op, ": student ", what, " ", s.str(), " and teacher ",
               what, " ", t.str(), " must have the same dtype");
}

void check_rank(const char* op, const Tensor& x, std::int64_t rank, const char* what,
                const char* layout) {
  RETORT_CHECK(x.defined(), op, ": ", what, " must be defined");
  RETORT_CHECK(x.dim() == rank, op, ": ", what, " ", shape_str(x.sizes()), " must be ", rank,
               "-D (", layout, ")");
}

void check_same_batch(const char* op, const Tensor& s, const Tensor& t) {
  RETORT_CHECK(s.defined() && t.defined(), op, ": student and teacher features must be defined");
  RETORT_CHECK(s.dim() >= 2 && t.dim() >= 2 && s.size(0) == t.size(0), op,
               ": student features ", shape_str(s.sizes()), " and teacher features ",
               shape_str(t.sizes()), " must be [N, ...] with the same batch size N");
  RETORT_CHECK(s.dtype() == t.dtype(), op, ": student features ", s.str(),
               " and teacher features ", t.str(), " must have the same dtype");
}

void check_temperature(const char* op, double T) {
  RETORT_CHECK(std::isfinite(T) && T > 0.0, op, ": temperature T must be finite and > 0, got ", T);
}

Tensor l2_normalize(const Tensor& x, std::int64_t dim, double eps) {
  Tensor sq = sum(x * x, {dim}, true);
  return x / sqrt(clamp(sq, eps * eps, std::numeric_limits<double>::infinity()));
}

Tensor flatten_batch(const Tensor& x) { return reshape(x, {x.size(0), x.numel() / x.size(0)}); }

Tensor eye_like(std::int64_t n, const Tensor& like) {
  Tensor e = zeros({n, n}, like.dtype(), like.device());
  for (std::int64_t i = 0; i < n; ++i) {
    Tensor d = as_strided(e, {1}, {1}, i * (n + 1));
    d.fill_(1.0);
  }
  return e;
}

}  // namespace retort::kd
