// Gradient attribution by separate backward passes. The engine accumulates into .grad(), so each
// pass starts from cleared gradients; the caller's accumulated gradients are moved aside first and
// put back at the end (even when a backward throws) so attribution never disturbs training.
#include "kd/attribution.h"

#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "autograd/engine.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

namespace retort::kd {

namespace {

std::string layer_of(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(0, dot);
}

// Restores the parameters' grads on scope exit.
struct GradStash {
  std::vector<Tensor> params;
  std::vector<std::shared_ptr<TensorImpl>> saved;
  explicit GradStash(std::vector<Tensor> ps) : params(std::move(ps)) {
    for (auto& p : params) saved.push_back(p.impl()->grad);
  }
  void clear() {
    for (auto& p : params) p.impl()->grad.reset();
  }
  ~GradStash() {
    for (std::size_t i = 0; i < params.size(); ++i) params[i].impl()->grad = saved[i];
  }
};

// Per group: Σg², and for the dot product with the reference, Σ g·g_ref.
struct Acc {
  double sq = 0, dot = 0;
};

}  // namespace

std::vector<AttributionRow> gradient_attribution(
    const std::vector<std::pair<std::string, Tensor>>& terms, const nn::NamedTensors& params,
    std::int64_t step, const AttributionOptions& options) {
  std::vector<std::string> groups;         // in first-appearance order
  std::map<std::string, std::size_t> gidx;
  std::vector<Tensor> ps;
  std::vector<std::size_t> pgroup;
  for (const auto& [path, p] : params) {
    if (!p.requires_grad()) continue;
    std::string g = options.granularity == AttributionGranularity::Layer ? layer_of(path) : path;
    auto [it, fresh] = gidx.try_emplace(g, groups.size());
    if (fresh) groups.push_back(g);
    ps.push_back(p);
    pgroup.push_back(it->second);
  }
  const std::size_t G = groups.size() + (options.include_total ? 1 : 0);
  std::size_t ref = terms.size();
  for (std::size_t j = 0; j < terms.size(); ++j)
    if (terms[j].first == options.reference_term) ref = j;

  GradStash stash(ps);
  // Gradient of term j for every parameter (zeros where it does not reach).
  auto grads_of = [&](const Tensor& loss) {
    stash.clear();
    RETORT_CHECK(loss.defined() && loss.numel() == 1,
                 "gradient_attribution: every term must be a scalar");
    if (loss.requires_grad()) loss.backward(Tensor(), /*retain_graph=*/true);
    std::vector<std::vector<double>> g;
    for (auto& p : ps)
      g.push_back(p.grad().defined() ? p.grad().to_vector<double>()
                                     : std::vector<double>(p.numel(), 0.0));
    return g;
  };
  std::vector<std::vector<double>> gref;
  std::vector<double> ref_sq(G, 0.0);
  if (ref < terms.size()) {
    gref = grads_of(terms[ref].second);
    for (std::size_t i = 0; i < ps.size(); ++i)
      for (double v : gref[i]) {
        ref_sq[pgroup[i]] += v * v;
        if (options.include_total) ref_sq[G - 1] += v * v;
      }
  }

  std::vector<std::vector<Acc>> acc(terms.size(), std::vector<Acc>(G));
  for (std::size_t j = 0; j < terms.size(); ++j) {
    auto g = j == ref ? gref : grads_of(terms[j].second);
    for (std::size_t i = 0; i < ps.size(); ++i)
      for (std::size_t k = 0; k < g[i].size(); ++k) {
        double v = g[i][k], d = gref.empty() ? 0.0 : v * gref[i][k];
        acc[j][pgroup[i]].sq += v * v;
        acc[j][pgroup[i]].dot += d;
        if (options.include_total) acc[j][G - 1].sq += v * v, acc[j][G - 1].dot += d;
      }
  }

  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<AttributionRow> rows;
  for (std::size_t gi = 0; gi < G; ++gi)
    for (std::size_t j = 0; j < terms.size(); ++j) {
      AttributionRow row;
      row.step = step;
      row.layer = gi < groups.size() ? groups[gi] : "*";
      row.term = terms[j].first;
      row.grad_norm = std::sqrt(acc[j][gi].sq);
      double denom = std::sqrt(ref_sq[gi]) * row.grad_norm;
      row.cos_ce_kd = gref.empty() || denom == 0 ? nan : acc[j][gi].dot / denom;
      rows.push_back(std::move(row));
    }
  return rows;
}

void append_attribution_csv(const std::string& path, const std::vector<AttributionRow>& rows) {
  std::ostringstream f;
  f.precision(10);
  for (const auto& r : rows) {
    f << r.step << ',' << r.layer << ',' << r.term << ',' << r.grad_norm << ',';
    if (std::isnan(r.cos_ce_kd)) f << "nan";
    else f << r.cos_ce_kd;
    f << '\n';
  }
  append_file_atomically(path, f.str(), "append_attribution_csv", "step,layer,term,grad_norm,cos_ce_kd\n");
}

}  // namespace retort::kd
