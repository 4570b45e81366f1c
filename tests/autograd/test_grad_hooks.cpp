// Post-accumulate-grad hooks: once per pass, after the leaf's gradient of the pass is complete
// (several uses summed), not for leaves without a gradient, in registration order, removable.
#include <algorithm>
#include <vector>

#include "autograd/grad_hooks.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "support/helpers.h"

using namespace retort;

namespace {
Tensor leaf(std::vector<double> v, Shape s) {
  Tensor t = from_vector(v, s, kFloat64);
  t.set_requires_grad();
  return t;
}
}  // namespace

TEST_CASE("a leaf hook runs once per pass and sees the summed gradient", "[autograd]") {
  Tensor x = leaf({2, 3}, {2});
  std::vector<std::vector<double>> seen;
  autograd::register_post_accumulate_grad_hook(x, [&](const Tensor& t) {
    seen.push_back(t.grad().to_vector<double>());
  });
  Tensor y = sum(x * x + x * 3.0 + exp(x) * 0.0);  // three uses of x: dy/dx = 2x + 3
  y.backward();
  REQUIRE(seen.size() == 1);
  REQUIRE(seen[0] == std::vector<double>{7, 9});
  sum(x).backward();  // second pass: accumulated onto the first
  REQUIRE(seen.size() == 2);
  REQUIRE(seen[1] == std::vector<double>{8, 10});
}

TEST_CASE("leaf hooks run before backward ends, in order, and can be removed", "[autograd]") {
  Tensor a = leaf({1}, {1}), b = leaf({2}, {1});
  std::vector<int> order;
  auto id1 = autograd::register_post_accumulate_grad_hook(a, [&](const Tensor&) { order.push_back(1); });
  autograd::register_post_accumulate_grad_hook(a, [&](const Tensor&) { order.push_back(2); });
  autograd::register_post_accumulate_grad_hook(b, [&](const Tensor& t) {
    order.push_back(3);
    REQUIRE(t.grad().item<double>() == 1.0);
  });
  sum(a * 2.0 + b).backward();
  REQUIRE(order.size() == 3);
  REQUIRE(std::count(order.begin(), order.end(), 3) == 1);
  auto p1 = std::find(order.begin(), order.end(), 1), p2 = std::find(order.begin(), order.end(), 2);
  REQUIRE(p1 < p2);
  order.clear();
  autograd::remove_post_accumulate_grad_hook(a, id1);
  sum(a).backward();
  REQUIRE(order == std::vector<int>{2});
}

TEST_CASE("a leaf without a gradient in the pass runs no hook", "[autograd]") {
  Tensor a = leaf({1}, {1}), b = leaf({2}, {1});
  int calls = 0;
  autograd::register_post_accumulate_grad_hook(b, [&](const Tensor&) { ++calls; });
  sum(a * 2.0).backward();  // b is not in the graph
  {
    NoGradGuard ng;
    Tensor c = b * 2.0;  // not recorded
    (void)c;
  }
  REQUIRE(calls == 0);
  sum(b).backward();  // a root-adjacent leaf
  REQUIRE(calls == 1);
  b.backward(ones({1}, kFloat64));  // b is the root itself
  REQUIRE(calls == 2);
}

TEST_CASE("hooks are only for leaves that require grad", "[autograd]") {
  Tensor c = from_vector(std::vector<double>{1}, {1}, kFloat64);
  REQUIRE_THROWS_WITH(autograd::register_post_accumulate_grad_hook(c, [](const Tensor&) {}),
                      Catch::Contains("not a leaf that requires grad"));
  Tensor x = leaf({1}, {1});
  Tensor y = x * 2.0;
  REQUIRE_THROWS_WITH(autograd::register_post_accumulate_grad_hook(y, [](const Tensor&) {}),
                      Catch::Contains("[1]"));
}
