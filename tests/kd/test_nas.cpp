// Architecture search (kd/nas.h): the space's enumeration and sampling stay within the budget and
// agree with brute force; successive halving's plan, the fraction it keeps and its ranking, with
// fake scorers whose scores are known.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "kd/nas.h"

using namespace retort;
using namespace retort::kd;
using nn::ConvNetSpec;

namespace {

nas::SearchSpace small_space() {
  nas::SearchSpace s;
  s.stages = {1, 2};
  s.convs = {1, 2};
  s.widths = {4, 8};
  s.kernels = {1, 3};
  s.hidden = {0, 16};
  s.image_size = 8;
  return s;
}

std::vector<ConvNetSpec> specs(std::size_t n) {
  std::vector<ConvNetSpec> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back({{{1, static_cast<std::int64_t>(i + 1), 3}}, 0});
  return v;
}

}  // namespace

TEST_CASE("nas: the space enumerates every spec once; the budget filter equals brute force") {
  const nas::SearchSpace space = small_space();
  // 1 stage: 8 choices, 2 stages: 64; times 2 hidden widths.
  REQUIRE(space.size() == (8 + 64) * 2);
  const auto all = nas::enumerate(space, {});
  REQUIRE(static_cast<std::int64_t>(all.size()) == space.size());
  std::set<std::string> seen;
  for (const auto& s : all) {
    REQUIRE(space.contains(s));
    seen.insert(s.describe());
  }
  REQUIRE(seen.size() == all.size());

  const nas::Budget budget{.max_params = 2000, .max_macs = 60000};
  const auto kept = nas::enumerate(space, budget);
  std::vector<ConvNetSpec> brute;
  for (const auto& s : all)
    if (s.parameter_count(3, 10, 8) <= 2000 && s.macs(3, 10, 8) <= 60000) brute.push_back(s);
  REQUIRE(kept == brute);
  REQUIRE(!kept.empty());
  REQUIRE(kept.size() < all.size());
  for (const auto& s : all) REQUIRE(nas::within(space, budget, s) == (s.parameter_count(3, 10, 8) <= 2000 && s.macs(3, 10, 8) <= 60000));
  // Each limit alone bites.
  REQUIRE(nas::enumerate(space, {.max_params = 2000}).size() < all.size());
  REQUIRE(nas::enumerate(space, {.max_macs = 60000}).size() < all.size());
}

TEST_CASE("nas: the default space holds the seed StudentNet, not the TeacherNet") {
  nas::SearchSpace space;
  REQUIRE(space.contains(ConvNetSpec::student_net()));
  REQUIRE(!space.contains(ConvNetSpec::teacher_net()));  // per-conv widths are not in the space
  REQUIRE(!space.contains({{{1, 16, 7}}, 0}));
  REQUIRE(nas::within(space, {.max_params = 267738}, ConvNetSpec::student_net()));
  REQUIRE(!nas::within(space, {.max_params = 267737}, ConvNetSpec::student_net()));
}

TEST_CASE("nas: sampling draws distinct specs within budget, deterministic in the seed") {
  const nas::SearchSpace space = small_space();
  const nas::Budget budget{.max_params = 2000, .max_macs = 60000};
  const auto pool = nas::enumerate(space, budget);
  const ConvNetSpec first = pool[3];
  const auto a = nas::sample(space, budget, 10, 7, {first});
  REQUIRE(a.size() == 10);
  REQUIRE(a[0] == first);
  std::set<std::string> distinct;
  for (const auto& s : a) {
    REQUIRE(nas::within(space, budget, s));
    REQUIRE(std::find(pool.begin(), pool.end(), s) != pool.end());
    distinct.insert(s.describe());
  }
  REQUIRE(distinct.size() == 10);
  REQUIRE(nas::sample(space, budget, 10, 7, {first}) == a);
  REQUIRE(nas::sample(space, budget, 10, 8, {first}) != a);
  // All of them when n is the pool's size; too many is an error naming the count.
  REQUIRE(nas::sample(space, budget, static_cast<std::int64_t>(pool.size()), 1).size() == pool.size());
  REQUIRE_THROWS_WITH(nas::sample(space, budget, static_cast<std::int64_t>(pool.size()) + 1, 1),
                      Catch::Contains("only " + std::to_string(pool.size())));
  // Included specs must be in the space and within budget.
  REQUIRE_THROWS_WITH(nas::sample(space, budget, 3, 1, {{{{2, 8, 3}, {2, 8, 3}}, 16}}),
                      Catch::Contains("over the budget"));
  REQUIRE_THROWS_WITH(nas::sample(space, budget, 3, 1, {{{{1, 5, 3}}, 0}}),
                      Catch::Contains("not in the search space"));
}

TEST_CASE("nas: sampling draws the stage count uniformly, then a spec of that depth") {
  // The small space has 16 one-stage and 128 two-stage specs: uniform over specs would give
  // one-stage nets 1/9 of the draws; by depth first, half.
  const nas::SearchSpace space = small_space();
  int shallow = 0, total = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed)
    for (const auto& s : nas::sample(space, {}, 4, seed)) {
      shallow += s.stages.size() == 1;
      ++total;
    }
  const double share = static_cast<double>(shallow) / total;
  INFO("one-stage share " << share);
  REQUIRE(share > 0.42);
  REQUIRE(share < 0.58);
  // When one depth runs out, the draws go on in the others: n = every spec returns them all.
  const auto all = nas::sample(space, {}, space.size(), 3);
  std::set<std::string> distinct;
  for (const auto& s : all) distinct.insert(s.describe());
  REQUIRE(distinct.size() == 144);
  REQUIRE(std::count_if(all.begin(), all.end(), [](const ConvNetSpec& s) { return s.stages.size() == 1; }) == 16);
}

TEST_CASE("nas: a bad space is refused naming the field") {
  nas::SearchSpace s;
  s.kernels = {3, 4};
  REQUIRE_THROWS_WITH(s.validate(), Catch::Contains("kernels holds 4"));
  s = {};
  s.widths = {};
  REQUIRE_THROWS_WITH(s.validate(), Catch::Contains("widths is empty"));
  s = {};
  s.stages = {6};
  REQUIRE_THROWS_WITH(s.validate(), Catch::Contains("below 1x1"));
}

TEST_CASE("nas: halving plans keep floor(n/eta) per round and multiply the budget") {
  nas::Plan p = nas::halving_plan(8, {.min_budget = 10, .eta = 2});
  REQUIRE(p.candidates == std::vector<std::int64_t>{8, 4, 2});
  REQUIRE(p.budgets == std::vector<std::int64_t>{10, 20, 40});
  REQUIRE(p.total == 8 * 10 + 4 * 10 + 2 * 20);
  p = nas::halving_plan(9, {.min_budget = 1, .eta = 3});
  REQUIRE(p.candidates == std::vector<std::int64_t>{9, 3});
  REQUIRE(p.budgets == std::vector<std::int64_t>{1, 3});
  p = nas::halving_plan(5, {.min_budget = 4, .eta = 2});
  REQUIRE(p.candidates == std::vector<std::int64_t>{5, 2});
  REQUIRE(p.total == 5 * 4 + 2 * 4);
  REQUIRE(nas::halving_plan(1, {}).candidates.empty());
  REQUIRE_THROWS_WITH(nas::halving_plan(4, {.min_budget = 1, .eta = 1}), Catch::Contains("eta = 1"));
}

TEST_CASE("nas: successive halving keeps the best fraction each round, resuming with growing budgets") {
  // Scores fixed per candidate: 5 3 8 1 7 2 6 4 → rounds keep {2,4,6,0}, then {2,4}, winner 2.
  const std::vector<double> fixed{5, 3, 8, 1, 7, 2, 6, 4};
  std::map<std::size_t, std::vector<std::int64_t>> calls;
  auto scorer = [&](std::size_t i, const ConvNetSpec& s, std::int64_t budget) {
    REQUIRE(s == specs(8)[i]);
    calls[i].push_back(budget);
    return fixed[i];
  };
  std::vector<std::size_t> seen_rounds;
  nas::HalvingResult r = nas::successive_halving(specs(8), scorer, {.min_budget = 3, .eta = 2},
                                                 [&](const nas::Round& round) { seen_rounds.push_back(round.kept.size()); });
  REQUIRE(r.rounds.size() == 3);
  REQUIRE(seen_rounds == std::vector<std::size_t>{4, 2, 1});
  REQUIRE(r.rounds[0].kept == std::vector<std::size_t>{2, 4, 6, 0});
  REQUIRE(r.rounds[1].evaluated == std::vector<std::size_t>{0, 2, 4, 6});
  REQUIRE(r.rounds[1].kept == std::vector<std::size_t>{2, 4});
  REQUIRE(r.rounds[2].kept == std::vector<std::size_t>{2});
  REQUIRE(r.winner == 2);
  REQUIRE(calls[2] == std::vector<std::int64_t>{3, 6, 12});
  REQUIRE(calls[0] == std::vector<std::int64_t>{3, 6});
  REQUIRE(calls[1] == std::vector<std::int64_t>{3});
  REQUIRE(r.score(0, 3) == 1);
  REQUIRE(std::isnan(r.score(1, 3)));
}

TEST_CASE("nas: successive halving ranks by each round's scores; ties go to the earlier candidate") {
  // Candidate 3 starts last but improves with budget: by round 1 it leads.
  auto scorer = [](std::size_t i, const ConvNetSpec&, std::int64_t b) {
    if (i == 3) return b == 1 ? 0.6 : 0.95;
    return i == 0 ? 0.9 : 0.7;
  };
  nas::HalvingResult r = nas::successive_halving(specs(4), scorer, {.min_budget = 1, .eta = 2});
  REQUIRE(r.rounds[0].kept == std::vector<std::size_t>{0, 1});  // 1 and 2 tie at 0.7: 1 first
  REQUIRE(r.winner == 0);
  auto later = [](std::size_t i, const ConvNetSpec&, std::int64_t b) {
    return i == 3 ? (b == 1 ? 0.8 : 0.95) : (i == 0 ? 0.9 : 0.1);
  };
  r = nas::successive_halving(specs(4), later, {.min_budget = 1, .eta = 2});
  REQUIRE(r.rounds[0].kept == std::vector<std::size_t>{0, 3});
  REQUIRE(r.winner == 3);
  auto broken = [](std::size_t, const ConvNetSpec&, std::int64_t) { return std::nan(""); };
  REQUIRE_THROWS_WITH(nas::successive_halving(specs(2), broken, {}), Catch::Contains("candidate 0"));
  REQUIRE(nas::successive_halving(specs(1), broken, {}).winner == 0);
}
