// Cosine loss. avg_pool1d over pairs is a narrow + reshape + mean (no pooling kernel needed), and
// the cosine follows ATen's cosine_embedding_loss arithmetic (EPS inside each squared norm,
// one sqrt of the product) so values agree with PyTorch to rounding.
#include "kd/cosine.h"

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/common.h"
#include "tensor/error.h"

namespace retort::kd {

Tensor cosine_loss(const Tensor& f_s, const Tensor& f_t, const CosineOptions& o) {
  const std::int64_t pool = o.pool;
  check_same_batch("cosine_loss", f_s, f_t);
  RETORT_CHECK(pool >= 1, "cosine_loss: pool size must be ≥ 1, got ", pool);
  Tensor s = flatten_batch(f_s);
  Tensor t = flatten_batch(detach(f_t));
  const std::int64_t n = s.size(0), d_s = s.size(1), windows = t.size(1) / pool;
  RETORT_CHECK(windows == d_s, "cosine_loss: student features ", shape_str(f_s.sizes()),
               " and teacher features ", shape_str(f_t.sizes()), ": the teacher's ", t.size(1),
               " features avg-pooled by ", pool, " give ", windows, ", not the student's ", d_s);
  if (pool > 1) t = mean(reshape(narrow(t, 1, 0, windows * pool), {n, windows, pool}), {2});
  constexpr double kEps = 1e-12;
  Tensor prod = sum(s * t, {1});
  Tensor mag = (sum(s * s, {1}) + kEps) * (sum(t * t, {1}) + kEps);
  return mean(1.0 - prod / sqrt(mag));
}

}  // namespace retort::kd
