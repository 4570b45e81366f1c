// FSP matrices as one batched matmul of the flattened maps (RepDistiller broadcasts and means
// over H·W; bmm then a division by H·W is the same sum in fewer operations).
#include "kd/fsp.h"

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/align.h"
#include "tensor/error.h"

namespace retort::kd {

Tensor fsp_matrix(const Tensor& f1, const Tensor& f2) {
  auto [a, b] = pool_to_smaller("fsp_matrix", f1, f2, "first feature", "second feature");
  const std::int64_t n = a.size(0), hw = a.size(2) * a.size(3);
  Tensor x = reshape(a, {n, a.size(1), hw});
  Tensor y = reshape(b, {n, b.size(1), hw});
  return bmm(x, transpose(y, 1, 2)) / static_cast<double>(hw);
}

Tensor fsp_loss(const std::vector<Tensor>& f_s, const std::vector<Tensor>& f_t,
                const FspOptions& o) {
  RETORT_CHECK(f_s.size() >= 2 && f_s.size() == f_t.size(), "fsp_loss: student (",
               f_s.size(), " maps) and teacher (", f_t.size(),
               " maps) need the same number L ≥ 2 of feature maps");
  Tensor total;
  for (std::size_t l = 0; l + 1 < f_s.size(); ++l) {
    Tensor g_s = fsp_matrix(f_s[l], f_s[l + 1]);
    Tensor g_t = fsp_matrix(detach(f_t[l]), detach(f_t[l + 1]));
    RETORT_CHECK(g_s.sizes() == g_t.sizes(), "fsp_loss: pair ", l, ": student FSP matrix ",
                 shape_str(g_s.sizes()), " (from ", shape_str(f_s[l].sizes()), " and ",
                 shape_str(f_s[l + 1].sizes()), ") and teacher FSP matrix ",
                 shape_str(g_t.sizes()), " (from ", shape_str(f_t[l].sizes()), " and ",
                 shape_str(f_t[l + 1].sizes()), ") must have the same shape");
    Tensor d = g_s - g_t;
    Tensor pair = mean(d * d);
    total = total.defined() ? total + pair : pair;
  }
  if (o.pairs == PairReduction::Sum) return total;
  return total / static_cast<double>(f_s.size() - 1);
}

}  // namespace retort::kd
