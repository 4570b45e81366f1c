// The search space, budget and successive halving of kd/nas.h. The space is enumerated in full
// (tens of thousands of specs at most; the closed-form counts of ConvNetSpec cost microseconds)
// so that sampling draws from exactly the specs within budget and never returns one over it.
// Sampling picks the stage count first: the space holds |choices| times more specs of P + 1 stages
// than of P, so a draw uniform over all specs would almost never try a shallow net. Draws use
// retort::Generator's below() so a seed gives the same candidates with any standard library
// (std::shuffle's algorithm is implementation-defined).
#include "kd/nas.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "tensor/error.h"
#include "tensor/random.h"

namespace retort::kd::nas {

namespace {

void check_list(const char* field, const std::vector<std::int64_t>& v, std::int64_t min,
                bool odd = false) {
  RETORT_CHECK(!v.empty(), "nas::SearchSpace: ", field, " is empty");
  for (std::int64_t x : v)
    RETORT_CHECK(x >= min && (!odd || x % 2 == 1), "nas::SearchSpace: ", field, " holds ", x,
                 odd ? " (need odd >= 1)" : min == 0 ? " (need >= 0)" : " (need >= 1)");
}

bool has(const std::vector<std::int64_t>& v, std::int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

void SearchSpace::validate() const {
  check_list("stages", stages, 1);
  check_list("convs", convs, 1);
  check_list("widths", widths, 1);
  check_list("kernels", kernels, 1, /*odd=*/true);
  check_list("hidden", hidden, 0);
  RETORT_CHECK(in_channels >= 1 && num_classes >= 1, "nas::SearchSpace: in_channels = ",
               in_channels, " and num_classes = ", num_classes, " (need >= 1)");
  const std::int64_t deepest = *std::max_element(stages.begin(), stages.end());
  RETORT_CHECK(deepest < 63 && (image_size >> deepest) >= 1, "nas::SearchSpace: ", deepest,
               " stages pool a ", image_size, "x", image_size, " image below 1x1");
}

std::int64_t SearchSpace::size() const {
  validate();
  const auto per_stage = static_cast<std::int64_t>(convs.size() * widths.size() * kernels.size());
  std::int64_t n = 0;
  for (std::int64_t p : stages) {
    std::int64_t k = 1;
    for (std::int64_t i = 0; i < p; ++i) k *= per_stage;
    n += k;
  }
  return n * static_cast<std::int64_t>(hidden.size());
}

bool SearchSpace::contains(const nn::ConvNetSpec& spec) const {
  if (!has(stages, static_cast<std::int64_t>(spec.stages.size())) || !has(hidden, spec.hidden) ||
      spec.dropout != nn::ConvNetSpec{}.dropout)
    return false;
  return std::all_of(spec.stages.begin(), spec.stages.end(), [&](const nn::ConvStage& s) {
    return s.widths.empty() && has(convs, s.convs) && has(widths, s.width) && has(kernels, s.kernel);
  });
}

bool within(const SearchSpace& space, const Budget& budget, const nn::ConvNetSpec& spec) {
  const auto& g = space;
  if (budget.max_params > 0 &&
      spec.parameter_count(g.in_channels, g.num_classes, g.image_size) > budget.max_params)
    return false;
  return budget.max_macs <= 0 ||
         spec.macs(g.in_channels, g.num_classes, g.image_size) <= budget.max_macs;
}

std::vector<nn::ConvNetSpec> enumerate(const SearchSpace& space, const Budget& budget) {
  space.validate();
  std::vector<nn::ConvStage> choices;
  for (std::int64_t c : space.convs)
    for (std::int64_t w : space.widths)
      for (std::int64_t k : space.kernels) choices.push_back({c, w, k});
  std::vector<nn::ConvNetSpec> out;
  for (std::int64_t p : space.stages) {
    // An odometer over p stage choices, the first stage varying slowest.
    std::vector<std::size_t> digit(static_cast<std::size_t>(p), 0);
    while (true) {
      nn::ConvNetSpec spec;
      for (std::size_t d : digit) spec.stages.push_back(choices[d]);
      for (std::int64_t h : space.hidden) {
        spec.hidden = h;
        if (within(space, budget, spec)) out.push_back(spec);
      }
      std::size_t i = digit.size();
      while (i > 0 && ++digit[i - 1] == choices.size()) digit[--i] = 0;
      if (i == 0) break;
    }
  }
  return out;
}

std::vector<nn::ConvNetSpec> sample(const SearchSpace& space, const Budget& budget, std::int64_t n,
                                    std::uint64_t seed,
                                    const std::vector<nn::ConvNetSpec>& include) {
  RETORT_CHECK(n >= 1, "nas::sample: n = ", n, " (need >= 1)");
  RETORT_CHECK(static_cast<std::int64_t>(include.size()) <= n, "nas::sample: ", include.size(),
               " included specs for n = ", n);
  std::vector<nn::ConvNetSpec> out;
  for (const nn::ConvNetSpec& s : include) {
    RETORT_CHECK(space.contains(s), "nas::sample: included spec ", s.describe(),
                 " is not in the search space");
    RETORT_CHECK(within(space, budget, s), "nas::sample: included spec ", s.describe(),
                 " is over the budget");
    RETORT_CHECK(std::find(out.begin(), out.end(), s) == out.end(), "nas::sample: spec ",
                 s.describe(), " included twice");
    out.push_back(s);
  }
  // The pool, grouped by stage count (the order of space.stages).
  std::vector<std::vector<nn::ConvNetSpec>> pools(space.stages.size());
  std::size_t available = 0;
  for (nn::ConvNetSpec& s : enumerate(space, budget)) {
    if (std::find(include.begin(), include.end(), s) != include.end()) continue;
    const auto depth = std::find(space.stages.begin(), space.stages.end(),
                                 static_cast<std::int64_t>(s.stages.size()));
    pools[static_cast<std::size_t>(depth - space.stages.begin())].push_back(std::move(s));
    ++available;
  }
  const std::size_t need = static_cast<std::size_t>(n) - out.size();
  RETORT_CHECK(available >= need, "nas::sample: only ", available + out.size(),
               " specs of the space are within the budget (", budget.max_params, " params, ",
               budget.max_macs, " MACs), ", n, " requested");
  Generator gen(seed);
  for (std::size_t k = 0; k < need; ++k) {
    // A stage count uniformly among those with specs left, then a spec uniformly among its own.
    std::vector<std::size_t> open;
    for (std::size_t d = 0; d < pools.size(); ++d)
      if (!pools[d].empty()) open.push_back(d);
    std::vector<nn::ConvNetSpec>& pool = pools[open[gen.below(open.size())]];
    const std::size_t j = static_cast<std::size_t>(gen.below(pool.size()));
    out.push_back(std::move(pool[j]));
    pool[j] = std::move(pool.back());
    pool.pop_back();
  }
  return out;
}

double HalvingResult::score(std::size_t round, std::size_t candidate) const {
  const Round& r = rounds.at(round);
  for (std::size_t k = 0; k < r.evaluated.size(); ++k)
    if (r.evaluated[k] == candidate) return r.scores[k];
  return std::numeric_limits<double>::quiet_NaN();
}

Plan halving_plan(std::int64_t n, const HalvingOptions& o) {
  RETORT_CHECK(n >= 1, "nas::successive_halving: needs at least one candidate");
  RETORT_CHECK(o.min_budget >= 1 && o.eta >= 2, "nas::successive_halving: min_budget = ",
               o.min_budget, " and eta = ", o.eta, " (need >= 1 and >= 2)");
  Plan p;
  std::int64_t b = o.min_budget, prev = 0;
  for (std::int64_t alive = n; alive > 1; alive = std::max<std::int64_t>(1, alive / o.eta)) {
    p.candidates.push_back(alive);
    p.budgets.push_back(b);
    p.total += alive * (b - prev);
    prev = b;
    b *= o.eta;
  }
  return p;
}

HalvingResult successive_halving(const std::vector<nn::ConvNetSpec>& specs, const Scorer& scorer,
                                 const HalvingOptions& options,
                                 const std::function<void(const Round&)>& on_round) {
  const Plan plan = halving_plan(static_cast<std::int64_t>(specs.size()), options);
  RETORT_CHECK(static_cast<bool>(scorer), "nas::successive_halving: no scorer");
  HalvingResult res{specs, {}, 0};
  std::vector<std::size_t> alive(specs.size());
  std::iota(alive.begin(), alive.end(), 0);
  for (std::size_t r = 0; r < plan.budgets.size(); ++r) {
    Round round{plan.budgets[r], alive, {}, {}};
    for (std::size_t i : alive) {
      const double s = scorer(i, specs[i], round.budget);
      RETORT_CHECK(std::isfinite(s), "nas::successive_halving: candidate ", i, " (",
                   specs[i].describe(), ") scored ", s, " at budget ", round.budget);
      round.scores.push_back(s);
    }
    std::vector<std::size_t> order(alive.size());
    std::iota(order.begin(), order.end(), 0);
    // Stable: equal scores keep candidate order, so the ranking is a function of the scores.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return round.scores[a] > round.scores[b]; });
    const std::size_t keep = r + 1 < plan.candidates.size()
                                 ? static_cast<std::size_t>(plan.candidates[r + 1])
                                 : std::size_t{1};
    for (std::size_t k = 0; k < keep; ++k) round.kept.push_back(alive[order[k]]);
    alive = round.kept;
    std::sort(alive.begin(), alive.end());  // evaluated in candidate order next round
    res.rounds.push_back(round);
    if (on_round) on_round(res.rounds.back());
  }
  res.winner = res.rounds.empty() ? 0 : res.rounds.back().kept.front();
  return res;
}

}  // namespace retort::kd::nas
