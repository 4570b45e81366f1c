// Reductions (tensor/reduce.h). Every reduction goes through cpu::plan_reduce: the input is packed
// and, when the reduced dims are one block (the common case: a trailing, leading or single dim),
// viewed as [outer, reduced, inner]; any other set (the bias gradient of [N,C,H,W] over N, H, W)
// as alternating kept/reduced blocks read once in memory order. cpu::run_reduce then runs the
// arithmetic of one Op per output.
// float32 sums accumulate in double so a [128,512] bias gradient or a long loss sum keeps its
// digits; max/min keep the first index on ties and propagate NaN (like PyTorch).
// CUDA tensors go to tensor/cuda/reduce.cu after the device-free argument checks.
#include "tensor/reduce.h"

#include <cmath>

#include "retort_config.h"
#include "tensor/cpu/reduce_ops.h"
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#define RETORT_CUDA_REDUCE(kind, x, dims, keepdim, p, op) \
  if ((x).defined() && (x).device().is_cuda()) return cuda::reduce(cuda::Reduce::kind, x, dims, keepdim, p, op)
#else
#define RETORT_CUDA_REDUCE(kind, x, dims, keepdim, p, op)
#endif

namespace retort::ops {

namespace {

using cpu::ReducePlan;

template <class T>
Tensor run_sum(const Tensor& x, const Dims& dims, bool keepdim, bool mean, const char* op) {
  ReducePlan p = cpu::plan_reduce(x, dims, keepdim, op);
  Tensor out = empty(p.out_shape, x.dtype());
  cpu::SumOp<T> sop{out.data<T>(), mean};
  cpu::run_reduce<T>(p, sop);
  return out;
}

template <class T, bool IsMax>
ValuesIndices run_extreme(const Tensor& x, const Dims& dims, bool keepdim, bool want_values,
                          bool want_indices, const char* op) {
  ReducePlan p = cpu::plan_reduce(x, dims, keepdim, op);
  RETORT_CHECK(p.reduced_count() > 0, op, ": cannot reduce an empty extent of ",
               shape_str(x.sizes()));
  ValuesIndices r;
  if (want_values) r.values = empty(p.out_shape, x.dtype());
  if (want_indices) r.indices = empty(p.out_shape, kInt64);
  cpu::ExtremeOp<T, IsMax> eop{want_values ? r.values.data<T>() : nullptr,
                               want_indices ? r.indices.data<std::int64_t>() : nullptr};
  cpu::run_reduce<T>(p, eop);
  return r;
}

ValuesIndices extreme(const Tensor& x, const Dims& dims, bool keepdim, bool is_max,
                      bool want_values, bool want_indices, const char* op) {
#if RETORT_WITH_CUDA
  if (x.defined() && x.device().is_cuda())
    return cuda::extreme(x, dims, keepdim, is_max, want_values, want_indices, op);
#endif
  return RETORT_DISPATCH_ALL(x.dtype(), op, [&]<class T>() {
    return is_max ? run_extreme<T, true>(x, dims, keepdim, want_values, want_indices, op)
                  : run_extreme<T, false>(x, dims, keepdim, want_values, want_indices, op);
  });
}

}  // namespace

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) {
  RETORT_CUDA_REDUCE(Sum, x, dims, keepdim, 0, "sum");
  return RETORT_DISPATCH_ALL(x.dtype(), "sum", [&]<class T>() {
    return run_sum<T>(x, dims, keepdim, false, "sum");
  });
}

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  RETORT_CUDA_REDUCE(Mean, x, dims, keepdim, 0, "mean");
  return RETORT_DISPATCH_FLOATING(x.dtype(), "mean", [&]<class T>() {
    return run_sum<T>(x, dims, keepdim, true, "mean");
  });
}

Tensor var(const Tensor& x, const Dims& dims, int correction, bool keepdim) {
  RETORT_CHECK(correction >= 0, "var: correction must be >= 0, got ", correction);
  RETORT_CUDA_REDUCE(Var, x, dims, keepdim, correction, "var");
  return RETORT_DISPATCH_FLOATING(x.dtype(), "var", [&]<class T>() {
    ReducePlan p = cpu::plan_reduce(x, dims, keepdim, "var");
    Tensor out = empty(p.out_shape, x.dtype());
    cpu::run_reduce<T>(p, cpu::VarOp<T>{out.data<T>(), correction});
    return out;
  });
}

Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  RETORT_CUDA_REDUCE(LogSumExp, x, dims, keepdim, 0, "logsumexp");
  return RETORT_DISPATCH_FLOATING(x.dtype(), "logsumexp", [&]<class T>() {
    ReducePlan p = cpu::plan_reduce(x, dims, keepdim, "logsumexp");
    Tensor out = empty(p.out_shape, x.dtype());
    cpu::run_reduce<T>(p, cpu::LogSumExpOp<T>{out.data<T>()});
    return out;
  });
}

Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  RETORT_CHECK(p > 0 && std::isfinite(p), "norm: p must be finite and > 0, got ", p);
  RETORT_CUDA_REDUCE(Norm, x, dims, keepdim, p, "norm");
  return RETORT_DISPATCH_FLOATING(x.dtype(), "norm", [&]<class T>() {
    ReducePlan pl = cpu::plan_reduce(x, dims, keepdim, "norm");
    Tensor out = empty(pl.out_shape, x.dtype());
    cpu::run_reduce<T>(pl, cpu::NormOp<T>{out.data<T>(), p});
    return out;
  });
}

ValuesIndices max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme(x, {dim}, keepdim, true, true, true, "max");
}

ValuesIndices min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme(x, {dim}, keepdim, false, true, true, "min");
}

Tensor max_all(const Tensor& x) { return extreme(x, {}, false, true, true, false, "max_all").values; }

Tensor min_all(const Tensor& x) { return extreme(x, {}, false, false, true, false, "min_all").values; }

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme(x, {dim}, keepdim, true, false, true, "argmax").indices;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.sizes() == shape) return g;
  const std::int64_t nd = g.dim(), ns = static_cast<std::int64_t>(shape.size());
  RETORT_CHECK(ns <= nd, "sum_to: cannot sum ", shape_str(g.sizes()), " to ", shape_str(shape),
               " (more dims)");
  const std::int64_t lead = nd - ns;
  Dims dims;
  for (std::int64_t d = 0; d < nd; ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    const std::int64_t want = shape[d - lead], have = g.size(d);
    RETORT_CHECK(want == have || want == 1, "sum_to: cannot sum ", shape_str(g.sizes()), " to ",
                 shape_str(shape), " (dim ", d, " is ", have, ", target ", want, ")");
    if (want == 1 && have != 1) dims.push_back(d);
  }
  // An empty dims list would mean "all dims" to sum(): only leading size-1 dims differ then.
  Tensor r = dims.empty() ? g.contiguous() : sum(g, dims, true);
  // r is packed with the same element count as shape: relabel its sizes without copying.
  return as_strided(r, shape, contiguous_strides(shape), r.offset());
}

}  // namespace retort::ops
