// CRD. The scores and the loss are differentiable compositions; the memory banks are data: they
// are read through detached index_select (no gradient into a buffer) and rewritten in place
// under NoGradGuard after the scores are formed, so this batch is scored against the memories
// from before its own update, as in RepDistiller.
#include "kd/crd.h"

#include <cmath>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/common.h"
#include "tensor/error.h"
#include "tensor/views.h"

namespace retort::kd {
namespace {

constexpr double kNceEps = 1e-7;

// RepDistiller's Normalize(2): x / ‖x‖ with no eps (an all-zero embedding is a real error).
Tensor normalize_rows(const Tensor& x) { return x / sqrt(sum(x * x, {1}, true)); }

// exp(M[c]·v / τ) [N, K+1]: each sample's embedding against its K+1 memory rows.
Tensor memory_scores(const Tensor& memory, const Tensor& v, const Tensor& c, double tau) {
  const std::int64_t n = c.size(0), k1 = c.size(1), f = memory.size(1);
  Tensor rows = index_select(detach(memory), 0, reshape(c, {n * k1}).contiguous());
  Tensor dots = bmm(reshape(rows, {n, k1, f}), reshape(v, {n, f, 1}));
  return exp(reshape(dots, {n, k1}) / tau);
}

// M[y_n] ← normalize(m·M[y_n] + (1 − m)·v_n); all rows computed before any is written.
void update_memory(const Tensor& memory, const Tensor& v, const Tensor& y, double m) {
  NoGradGuard guard;
  Tensor updated = normalize_rows(index_select(memory, 0, y) * m + detach(v) * (1.0 - m));
  std::vector<std::int64_t> rows = y.contiguous().to_vector<std::int64_t>();
  for (std::size_t i = 0; i < rows.size(); ++i)
    ops::select(memory, 0, rows[i]).copy_(ops::select(updated, 0, static_cast<std::int64_t>(i)));
}

}  // namespace

Embed::Embed(std::int64_t dim_in, std::int64_t dim_out) {
  linear = register_module("linear", std::make_shared<nn::Linear>(dim_in, dim_out));
}

Tensor Embed::forward(const Tensor& x) {
  RETORT_CHECK(x.defined() && x.dim() >= 1 && x.numel() == x.size(0) * linear->in_features,
               "Embed: input ", x.defined() ? shape_str(x.sizes()) : "undefined",
               " must be [N, ...] with ", linear->in_features, " features per sample");
  return normalize_rows((*linear)(flatten_batch(x)));
}

ContrastMemory::ContrastMemory(std::int64_t f, std::int64_t n, std::int64_t k, double t,
                               double m, std::uint64_t seed)
    : feat_dim(f), n_data(n), nce_k(k), nce_t(t), nce_m(m), generator(seed) {
  RETORT_CHECK(f > 0 && n > 0 && k > 0 && t > 0.0, "ContrastMemory: feat_dim ", f, ", n_data ",
               n, ", nce_k ", k, " and nce_t ", t, " must be positive");
  params = register_buffer(
      "params", from_vector(std::vector<double>{static_cast<double>(k), t, -1.0, -1.0, m}, {5}));
  const double stdv = 1.0 / std::sqrt(static_cast<double>(f) / 3.0);
  memory_v1 = register_buffer("memory_v1", empty({n, f}));
  memory_v2 = register_buffer("memory_v2", empty({n, f}));
  uniform_(memory_v1, -stdv, stdv, &generator);
  uniform_(memory_v2, -stdv, stdv, &generator);
}

Tensor ContrastMemory::sample(const Tensor& y) {
  // Negatives are drawn on the host generator (the same stream on every device), then moved
  // to the labels' device so the memory-bank lookups stay on one device.
  Tensor c = randint(0, n_data, {y.size(0), nce_k + 1}, &generator).to(y.device());
  ops::select(c, 1, 0).copy_(y);
  return c;
}

std::pair<Tensor, Tensor> ContrastMemory::score(const Tensor& v1, const Tensor& v2,
                                                const Tensor& y, const Tensor& c_in) {
  const std::int64_t n = v1.size(0);
  RETORT_CHECK(y.defined() && y.dtype() == kInt64 && y.sizes() == Shape{n}, "CRD: idx ",
               y.defined() ? y.str() : "undefined", " must be int64 [", n, "] (one per sample)");
  Tensor c = c_in.defined() ? c_in : sample(y);
  RETORT_CHECK(c.dtype() == kInt64 && c.sizes() == (Shape{n, nce_k + 1}), "CRD: contrast_idx ",
               c.str(), " must be int64 [", n, ", ", nce_k + 1, "] (N × (nce_k + 1))");
  std::vector<double> p = params.to(kFloat64).to_vector<double>();
  Tensor out_s = memory_scores(memory_v2, v1, c, nce_t);
  Tensor out_t = memory_scores(memory_v1, v2, c, nce_t);
  // Z is estimated once from the first batch and then fixed; read back from the buffer so it
  // carries the buffer's rounding, as RepDistiller's .item() does.
  for (auto [slot, out] : {std::pair{2, out_s}, std::pair{3, out_t}}) {
    if (p[slot] >= 0.0) continue;
    ops::select(params, 0, slot).copy_(detach(mean(out)) * static_cast<double>(n_data));
    p[slot] = ops::select(params, 0, slot).to(kFloat64).item<double>();
  }
  out_s = out_s / p[2];
  out_t = out_t / p[3];
  update_memory(memory_v1, v1, y, nce_m);
  update_memory(memory_v2, v2, y, nce_m);
  return {out_s, out_t};
}

Tensor contrast_nce_loss(const Tensor& x, std::int64_t n_data) {
  RETORT_CHECK(x.defined() && x.dim() == 2 && x.size(1) >= 2, "contrast_nce_loss: scores ",
               x.defined() ? shape_str(x.sizes()) : "undefined", " must be [N, K+1] with K ≥ 1");
  const std::int64_t k = x.size(1) - 1;
  const double mpn = static_cast<double>(k) / static_cast<double>(n_data);
  Tensor pos = select(x, 1, 0);
  Tensor neg = narrow(x, 1, 1, k);
  Tensor log_d1 = log(pos / (pos + (mpn + kNceEps)));
  Tensor log_d0 = log(mpn / (neg + (mpn + kNceEps)));
  return -(sum(log_d1) + sum(log_d0)) / static_cast<double>(x.size(0));
}

CRD::CRD(std::int64_t s_dim, std::int64_t t_dim, std::int64_t n_data, std::int64_t feat_dim,
         std::int64_t nce_k, double nce_t, double nce_m, std::uint64_t seed) {
  embed_s = register_module("embed_s", std::make_shared<Embed>(s_dim, feat_dim));
  embed_t = register_module("embed_t", std::make_shared<Embed>(t_dim, feat_dim));
  contrast = register_module("contrast", std::make_shared<ContrastMemory>(
                                             feat_dim, n_data, nce_k, nce_t, nce_m, seed));
}

Tensor CRD::forward(const Tensor& f_s, const Tensor& f_t, const Tensor& idx,
                    const Tensor& contrast_idx) {
  check_same_batch("CRD", f_s, f_t);
  Tensor v_s = (*embed_s)(f_s);
  Tensor v_t = (*embed_t)(detach(f_t));
  auto [out_s, out_t] = contrast->score(v_s, v_t, idx, contrast_idx);
  return contrast_nce_loss(out_s, contrast->n_data) + contrast_nce_loss(out_t, contrast->n_data);
}

}  // namespace retort::kd
