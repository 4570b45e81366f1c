// CRD. The scores and the loss are differentiable compositions; the memory banks are data: they
// are read through detached index_select (no gradient into a buffer) and rewritten in place
// under NoGradGuard after the scores are formed, so this batch is scored against the memories
// from before its own update, as in RepDistiller.
#include "kd/crd.h"

#include <algorithm>
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

Embed::Embed(std::int64_t dim_in, std::int64_t dim_out, const TensorOptions& to) {
  linear = register_module("linear", std::make_shared<nn::Linear>(dim_in, dim_out, true, to));
}

Tensor Embed::forward(const Tensor& x) {
  RETORT_CHECK(x.defined() && x.dim() >= 1 && x.numel() == x.size(0) * linear->in_features,
               "Embed: input ", x.defined() ? shape_str(x.sizes()) : "undefined",
               " must be [N, ...] with ", linear->in_features, " features per sample");
  return normalize_rows((*linear)(flatten_batch(x)));
}

ContrastMemory::ContrastMemory(std::int64_t f, std::int64_t n, std::int64_t k, double t,
                               double m, Generator& init, const TensorOptions& to)
    : feat_dim(f), n_data(n) {
  RETORT_CHECK(f > 0 && n > 0 && k > 0 && std::isfinite(t) && t > 0.0 && m >= 0.0 && m <= 1.0,
               "ContrastMemory: feat_dim ", f, ", n_data ", n, ", nce_k ", k, " and T ", t,
               " must be positive (T finite), momentum ", m, " in [0, 1]");
  params = register_buffer("params", from_vector(std::vector<double>{static_cast<double>(k), t,
                                                                     -1.0, -1.0, m},
                                                 {5}, to.dtype));
  const double stdv = 1.0 / std::sqrt(static_cast<double>(f) / 3.0);
  memory_v1 = register_buffer("memory_v1", empty({n, f}, to.dtype));
  memory_v2 = register_buffer("memory_v2", empty({n, f}, to.dtype));
  uniform_(memory_v1, -stdv, stdv, &init);
  uniform_(memory_v2, -stdv, stdv, &init);
  if (to.device != kCPU) this->to(to.device);
}

std::int64_t ContrastMemory::nce_k() const {
  const double k = ops::select(params, 0, 0).to(kFloat64).item<double>();
  RETORT_CHECK(k >= 1.0 && k < 9.0e15 && std::floor(k) == k, "ContrastMemory: params[0] (K, ",
               "the number of negatives) must be a positive integer, got ", k);
  return static_cast<std::int64_t>(k);
}

double ContrastMemory::temperature() const {
  const double t = ops::select(params, 0, 1).to(kFloat64).item<double>();
  RETORT_CHECK(std::isfinite(t) && t > 0.0, "ContrastMemory: params[1] (T) must be finite and ",
               "> 0, got ", t);
  return t;
}

double ContrastMemory::momentum() const {
  const double m = ops::select(params, 0, 4).to(kFloat64).item<double>();
  RETORT_CHECK(m >= 0.0 && m <= 1.0, "ContrastMemory: params[4] (momentum) must be in [0, 1], got ",
               m);
  return m;
}

std::pair<Tensor, Tensor> ContrastMemory::score(const Tensor& v1, const Tensor& v2,
                                                const Tensor& y, const Tensor& c) {
  const std::int64_t n = v1.size(0), k = nce_k();
  RETORT_CHECK(y.defined() && y.dtype() == kInt64 && y.sizes() == Shape{n}, "CRD: idx ",
               y.defined() ? y.str() : "undefined", " must be int64 [", n, "] (one per sample)");
  RETORT_CHECK(c.defined() && c.dtype() == kInt64 && c.sizes() == (Shape{n, k + 1}),
               "CRD: contrast_idx ", c.defined() ? c.str() : "undefined", " must be int64 [", n,
               ", ", k + 1, "] (N × (K + 1), K = ", k, " from params)");
  const double tau = temperature(), m = momentum();
  std::vector<double> p = params.to(kFloat64).to_vector<double>();
  Tensor out_s = memory_scores(memory_v2, v1, c, tau);
  Tensor out_t = memory_scores(memory_v1, v2, c, tau);
  // Z is estimated once from the first batch and then fixed; read back from the buffer so it
  // carries the buffer's rounding, as RepDistiller's .item() does.
  for (auto [slot, out] : {std::pair{2, out_s}, std::pair{3, out_t}}) {
    if (p[slot] >= 0.0) continue;
    ops::select(params, 0, slot).copy_(detach(mean(out)) * static_cast<double>(n_data));
    p[slot] = ops::select(params, 0, slot).to(kFloat64).item<double>();
  }
  out_s = out_s / p[2];
  out_t = out_t / p[3];
  update_memory(memory_v1, v1, y, m);
  update_memory(memory_v2, v2, y, m);
  return {out_s, out_t};
}

ContrastSampler::ContrastSampler(CrdNegatives m, const Tensor& labels, Generator g)
    : mode(m), n_data(0), generator(g) {
  RETORT_CHECK(labels.defined() && labels.dim() == 1 && labels.dtype() == kInt64 &&
                   labels.size(0) >= 2,
               "CRD: labels ", labels.defined() ? labels.str() : "undefined",
               " must be int64 [n_data] (the class of every training sample), n_data ≥ 2");
  label_of_ = labels.to(kCPU).contiguous().to_vector<std::int64_t>();
  n_data = static_cast<std::int64_t>(label_of_.size());
  std::int64_t classes = 0;
  for (std::int64_t c : label_of_) {
    RETORT_CHECK(c >= 0, "CRD: labels must be ≥ 0, got ", c);
    classes = std::max(classes, c + 1);
  }
  start_.assign(static_cast<std::size_t>(classes) + 1, 0);
  for (std::int64_t c : label_of_) ++start_[static_cast<std::size_t>(c) + 1];
  for (std::size_t c = 1; c < start_.size(); ++c) start_[c] += start_[c - 1];
  order_.resize(label_of_.size());
  std::vector<std::int64_t> fill(start_.begin(), start_.end() - 1);
  for (std::int64_t i = 0; i < n_data; ++i)
    order_[static_cast<std::size_t>(fill[static_cast<std::size_t>(label_of_[i])]++)] = i;
  std::int64_t largest = 0;
  for (std::size_t c = 0; c + 1 < start_.size(); ++c)
    largest = std::max(largest, start_[c + 1] - start_[c]);
  RETORT_CHECK(mode == CrdNegatives::Uniform || largest < n_data,
               "CRD: class-aware negatives need at least two classes in labels ", labels.str());
  stamp_.assign(label_of_.size(), 0);
}

ContrastSampler::ContrastSampler(std::int64_t n, Generator g)
    : mode(CrdNegatives::Uniform), n_data(n), generator(g) {
  RETORT_CHECK(n > 0, "CRD: n_data must be positive, got ", n);
}

// np.random.choice(cls_negative[c], k, replace=k > M): the negatives of class c are order_ outside
// [start_[c], start_[c + 1]), so the j-th of them is found without building the list. Without
// replacement, small k rejects repeats with per-sample stamps (≈ M·ln(M/(M − k)) draws); k above
// M/2 shuffles a copy partially instead, where rejection would slow down.
void ContrastSampler::draw_negatives(std::int64_t i, std::int64_t k, std::int64_t* out) {
  const auto c = static_cast<std::size_t>(label_of_[static_cast<std::size_t>(i)]);
  const std::int64_t lo = start_[c], size = start_[c + 1] - lo, m = n_data - size;
  auto nth = [&](std::int64_t j) { return order_[static_cast<std::size_t>(j < lo ? j : j + size)]; };
  auto draw = [&](std::int64_t bound) {
    return static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(bound)));
  };
  if (k > m) {
    for (std::int64_t j = 0; j < k; ++j) out[j] = nth(draw(m));
    return;
  }
  if (2 * k <= m) {
    if (++stamp_now_ == 0) {
      std::fill(stamp_.begin(), stamp_.end(), 0u);
      stamp_now_ = 1;
    }
    for (std::int64_t j = 0; j < k;) {
      const std::int64_t s = nth(draw(m));
      auto& st = stamp_[static_cast<std::size_t>(s)];
      if (st == stamp_now_) continue;
      st = stamp_now_;
      out[j++] = s;
    }
    return;
  }
  scratch_.resize(static_cast<std::size_t>(m));
  for (std::int64_t j = 0; j < m; ++j) scratch_[static_cast<std::size_t>(j)] = nth(j);
  for (std::int64_t j = 0; j < k; ++j) {
    std::swap(scratch_[static_cast<std::size_t>(j)],
              scratch_[static_cast<std::size_t>(j + draw(m - j))]);
    out[j] = scratch_[static_cast<std::size_t>(j)];
  }
}

Tensor ContrastSampler::draw(const Tensor& idx, std::int64_t k) {
  RETORT_CHECK(idx.defined() && idx.dim() == 1 && idx.dtype() == kInt64, "CRD: idx ",
               idx.defined() ? idx.str() : "undefined", " must be int64 [N]");
  RETORT_CHECK(k >= 1, "CRD: K must be ≥ 1, got ", k);
  const std::vector<std::int64_t> ids = idx.to(kCPU).contiguous().to_vector<std::int64_t>();
  const std::int64_t n = static_cast<std::int64_t>(ids.size());
  for (std::int64_t i : ids)
    RETORT_CHECK(i >= 0 && i < n_data, "CRD: idx value ", i, " is outside [0, ", n_data, ")");
  Tensor c = empty({n, k + 1}, kInt64);
  std::int64_t* p = c.data<std::int64_t>();
  for (std::int64_t r = 0; r < n; ++r) {
    std::int64_t* row = p + r * (k + 1);
    const std::int64_t i = ids[static_cast<std::size_t>(r)];
    row[0] = i;
    if (mode == CrdNegatives::Uniform) {
      for (std::int64_t j = 1; j <= k; ++j)
        row[j] = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(n_data)));
      continue;
    }
    if (mode == CrdNegatives::ClassRelax) {
      const auto cl = static_cast<std::size_t>(label_of_[static_cast<std::size_t>(i)]);
      const std::int64_t size = start_[cl + 1] - start_[cl];
      row[0] = order_[static_cast<std::size_t>(
          start_[cl] + static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(size))))];
    }
    draw_negatives(i, k, row + 1);
  }
  return c.to(idx.device());
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

CRD::CRD(std::int64_t s_dim, std::int64_t t_dim, const Tensor& labels, const CrdOptions& o,
         const TensorOptions& to)
    : sampler(o.negatives, labels, Generator(o.seed)) {
  embed_s = register_module("embed_s", std::make_shared<Embed>(s_dim, o.feat_dim, to));
  embed_t = register_module("embed_t", std::make_shared<Embed>(t_dim, o.feat_dim, to));
  contrast = register_module(
      "contrast", std::make_shared<ContrastMemory>(o.feat_dim, sampler.n_data, o.nce_k, o.T,
                                                   o.momentum, sampler.generator, to));
}

CRD::CRD(std::int64_t s_dim, std::int64_t t_dim, std::int64_t n_data, const CrdOptions& o,
         const TensorOptions& to)
    : sampler(n_data, Generator(o.seed)) {
  RETORT_CHECK(o.negatives == CrdNegatives::Uniform,
               "CRD: class-aware negatives (ClassExact, RepDistiller's default, or ClassRelax) "
               "need the class of every training sample: construct CRD(s_dim, t_dim, labels, "
               "options), or set options.negatives = CrdNegatives::Uniform");
  embed_s = register_module("embed_s", std::make_shared<Embed>(s_dim, o.feat_dim, to));
  embed_t = register_module("embed_t", std::make_shared<Embed>(t_dim, o.feat_dim, to));
  contrast = register_module(
      "contrast", std::make_shared<ContrastMemory>(o.feat_dim, n_data, o.nce_k, o.T,
                                                   o.momentum, sampler.generator, to));
}

Tensor CRD::forward(const Tensor& f_s, const Tensor& f_t, const Tensor& idx,
                    const Tensor& contrast_idx) {
  check_same_batch("CRD", f_s, f_t);
  Tensor v_s = (*embed_s)(f_s);
  Tensor v_t = (*embed_t)(detach(f_t));
  Tensor c = contrast_idx.defined() ? contrast_idx : sampler.draw(idx, contrast->nce_k());
  auto [out_s, out_t] = contrast->score(v_s, v_t, idx, c);
  return contrast_nce_loss(out_s, contrast->n_data) + contrast_nce_loss(out_t, contrast->n_data);
}

}  // namespace retort::kd
