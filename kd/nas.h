// Architecture search for a distilled student (namespace retort::kd::nas): a search space of
// plain conv nets (nn/convnet.h), a parameter and MAC budget, and successive halving over
// candidates scored by a caller's function — in practice a short KD training from the teacher
// (kd/nas_train.h: KdScorer), so the distillation objective is in the loop.
//
//   nas::SearchSpace space;                                   // the defaults below
//   nas::Budget budget{.max_params = 267738, .max_macs = 10'000'000};
//   auto specs = nas::sample(space, budget, 8, /*seed=*/42, {nn::ConvNetSpec::student_net()});
//   nas::KdScorer scorer(teacher, train_x, train_y, val_x, val_y, space, {});
//   nas::HalvingResult r = nas::successive_halving(specs, std::ref(scorer), {.min_budget = 60});
//   // r.specs[r.winner] — then train it in full (KdTraining).
//
// Search space: P ∈ stages stages, each independently with convs ∈ convs, width ∈ widths and
// kernel ∈ kernels, and a classifier hidden width ∈ hidden (0 = none). size() = Σ_P
// (|convs|·|widths|·|kernels|)^P · |hidden|. The input geometry (in_channels, num_classes,
// image_size) is part of the space because counts depend on it.
//
// Budget: a spec is admitted when parameter_count ≤ max_params and macs ≤ max_macs (0 = no limit),
// both the closed forms of ConvNetSpec (equal to the built module's counts and nn::count_macs).
//
// Successive halving (Jamieson & Talwalkar 2016; Hyperband's inner loop, Li et al. 2017), with
// n candidates and factor η: round r gives every surviving candidate a total budget
// b_r = min_budget·η^r (the scorer continues a candidate's training from its previous round, so
// the round costs n_r·(b_r − b_{r−1})), ranks the survivors by score (higher first; ties by
// candidate order) and keeps the best n_{r+1} = max(1, ⌊n_r/η⌋). It stops when one is left:
// the winner. Rounds = ⌈log_η n⌉; total budget spent = Σ_r n_r·(b_r − b_{r−1}).
// Why successive halving rather than an evolutionary search: on a small CPU the scoring
// trainings are the whole cost, and SH spends them where they matter — every candidate gets a
// cheap look, only the promising ones get longer training — with a total cost fixed in advance
// (halving_plan) and no population or generations to tune; an evolutionary search needs many
// sequential generations of scored children to move, which a few minutes of 2 cores cannot buy.
// Its known weakness: a short first round favours nets that learn fast early, which the later,
// longer rounds only partly correct.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "nn/convnet.h"

namespace retort::kd::nas {

struct SearchSpace {
  std::vector<std::int64_t> stages{2, 3};
  std::vector<std::int64_t> convs{1, 2};
  std::vector<std::int64_t> widths{8, 16, 24, 32, 48};
  std::vector<std::int64_t> kernels{3, 5};
  std::vector<std::int64_t> hidden{0, 64, 128, 256};
  std::int64_t in_channels = 3, num_classes = 10, image_size = 32;

  // Throws naming the field unless every list is non-empty with valid values (stages ≥ 1 and
  // not pooling the image below 1×1, convs and widths ≥ 1, kernels odd, hidden ≥ 0).
  void validate() const;
  std::int64_t size() const;  // number of specs, budget or not
  // Whether spec is a point of the space (uniform widths per stage, dropout 0.1).
  bool contains(const nn::ConvNetSpec& spec) const;
};

struct Budget {
  std::int64_t max_params = 0;  // 0 = no limit
  std::int64_t max_macs = 0;    // per image; 0 = no limit
};

// Whether spec's parameters and MACs (for the space's input geometry) are within the budget.
bool within(const SearchSpace& space, const Budget& budget, const nn::ConvNetSpec& spec);
// Every spec of the space within the budget, in a fixed order (stage count, then per stage
// convs, width, kernel in list order, then hidden).
std::vector<nn::ConvNetSpec> enumerate(const SearchSpace& space, const Budget& budget);
// `include` (each must be in the space and within the budget, else throws), then n − |include|
// further distinct specs of enumerate(space, budget) minus `include`, each drawn (Generator(seed))
// as: a stage count uniformly among those with specs left, then a spec uniformly among that
// count's specs left. (Uniform over all specs would draw almost only the deepest nets: each
// stage multiplies the count by |convs|·|widths|·|kernels|.) Throws when fewer than n exist.
std::vector<nn::ConvNetSpec> sample(const SearchSpace& space, const Budget& budget, std::int64_t n,
                                    std::uint64_t seed,
                                    const std::vector<nn::ConvNetSpec>& include = {});

struct HalvingOptions {
  std::int64_t min_budget = 1;  // b_0, in the scorer's unit (KdScorer: optimiser steps), ≥ 1
  std::int64_t eta = 2;         // ≥ 2
};

// Trains candidate `index` to a total budget `budget` and returns its score (higher = better,
// finite). Called with increasing budgets for the same index.
using Scorer =
    std::function<double(std::size_t index, const nn::ConvNetSpec& spec, std::int64_t budget)>;

struct Round {
  std::int64_t budget = 0;             // b_r
  std::vector<std::size_t> evaluated;  // candidate indices, in order of evaluation
  std::vector<double> scores;          // per evaluated
  std::vector<std::size_t> kept;       // the survivors, best first
};

struct HalvingResult {
  std::vector<nn::ConvNetSpec> specs;
  std::vector<Round> rounds;
  std::size_t winner = 0;
  // Candidate i's score in round r, or NaN when it was not evaluated there.
  double score(std::size_t round, std::size_t candidate) const;
};

// (n_r, b_r) per round for n candidates, and the total budget Σ n_r·(b_r − b_{r−1}).
struct Plan {
  std::vector<std::int64_t> candidates, budgets;
  std::int64_t total = 0;
};
Plan halving_plan(std::int64_t n, const HalvingOptions& options);

// on_round (optional) sees each round as soon as it is ranked. n = 1 returns at once (no rounds).
HalvingResult successive_halving(const std::vector<nn::ConvNetSpec>& specs, const Scorer& scorer,
                                 const HalvingOptions& options,
                                 const std::function<void(const Round&)>& on_round = {});

}  // namespace retort::kd::nas
