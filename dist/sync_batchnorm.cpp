// SyncBatchNorm (see sync_batchnorm.h): composite ops around a differentiable all-reduce, so the
// backward needs no hand-written formula. The mean is reduced first and the variance taken
// around it (two passes) rather than from Σx² − (Σx)²/M, which cancels badly in float32 when the
// mean is large against the spread.
#include "dist/sync_batchnorm.h"

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "tensor/elementwise.h"

namespace retort::dist {

Tensor all_reduce_sum(ProcessGroup& pg, const Tensor& x) {
  Tensor y = x.contiguous().clone();
  pg.all_reduce(y, ReduceOp::Sum);
  ProcessGroup* group = &pg;
  return autograd::record("all_reduce_sum", {x}, y, [group](const Tensor& g) {
    Tensor s = g.contiguous().clone();
    group->all_reduce(s, ReduceOp::Sum);
    return autograd::Grads{s};
  });
}

Tensor SyncBatchNorm::forward(const Tensor& x) {
  RETORT_CHECK(x.dim() >= 2 && x.size(1) == num_features, "SyncBatchNorm: input ", shape_str(x.sizes()),
               " is not [N, ", num_features, ", *]");
  if (!is_training() && track_running_stats) return normalize(x);  // running statistics: local
  Dims dims{0};
  Shape bshape(static_cast<std::size_t>(x.dim()), 1);
  bshape[1] = num_features;
  for (std::int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  Tensor count = scalar_tensor(static_cast<double>(x.numel() / num_features), kFloat64);
  pg_.all_reduce(count);
  const double m = count.item<double>();
  RETORT_CHECK(m > 1, "SyncBatchNorm: ", m, " value(s) per channel over all ranks; batch statistics need more than 1");
  Tensor mean = all_reduce_sum(pg_, sum(x, dims)) / m;
  Tensor centred = x - reshape(mean, bshape);
  Tensor var = all_reduce_sum(pg_, sum(centred * centred, dims)) / m;
  Tensor y = centred / reshape(sqrt(var + eps), bshape);
  if (affine) y = y * reshape(weight, bshape) + reshape(bias, bshape);
  if (is_training() && track_running_stats) {
    NoGradGuard ng;
    const std::int64_t n = num_batches_tracked.item<std::int64_t>() + 1;
    num_batches_tracked.copy_(scalar_tensor(static_cast<double>(n), kInt64));
    const double f = momentum ? *momentum : 1.0 / static_cast<double>(n);
    ops::mul_scalar_(running_mean, 1.0 - f);
    ops::add_scaled_(running_mean, detach(mean).to(running_mean.dtype()), f);
    ops::mul_scalar_(running_var, 1.0 - f);
    ops::add_scaled_(running_var, detach(var).to(running_var.dtype()), f * m / (m - 1));
  }
  return y;
}

}  // namespace retort::dist
