// The backward engine: accumulation, shared subgraphs, no_grad, detach, retain_graph, freeing,
// deep graphs, non-scalar roots, retain_grad.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
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

TEST_CASE("gradients accumulate across uses and across backward calls", "[autograd]") {
  Tensor x = leaf({2, 3}, {2});
  Tensor y = sum(x * x + x);  // dy/dx = 2x + 1
  y.backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{5, 7});
  sum(x * 3.0).backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{8, 10});
}

TEST_CASE("a diamond graph runs each node once", "[autograd]") {
  Tensor x = leaf({1.5}, {1});
  Tensor a = exp(x);
  Tensor y = sum(a * a + a);  // d/dx = 2e^{2x} + e^x
  y.backward();
  double e = std::exp(1.5);
  REQUIRE(x.grad().item<double>() == Approx(2 * e * e + e));
}

TEST_CASE("no_grad and detach cut the graph", "[autograd]") {
  Tensor x = leaf({1, 2}, {2});
  {
    NoGradGuard ng;
    Tensor y = x * 2.0;
    REQUIRE_FALSE(y.requires_grad());
  }
  Tensor d = detach(x);
  REQUIRE_FALSE(d.requires_grad());
  Tensor y = sum(x * detach(x));  // gradient only through the first factor
  y.backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{1, 2});
}

TEST_CASE("a second backward through a freed graph is a clear error", "[autograd]") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = sum(exp(x));
  y.backward();
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("already freed") && Catch::Contains("retain_graph"));
  Tensor z = sum(exp(x));
  z.backward(Tensor(), true);
  z.backward();
  REQUIRE(x.grad().to_vector<double>()[0] == Approx(3 * std::exp(1.0)));
}

TEST_CASE("backward needs a gradient for non-scalars and a graph", "[autograd]") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x * 3.0;
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("not a scalar") && Catch::Contains("[2]"));
  y.backward(from_vector(std::vector<double>{1, 10}, {2}, kFloat64));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{3, 30});
  Tensor c = from_vector(std::vector<double>{1}, {1}, kFloat64);
  REQUIRE_THROWS_WITH(sum(c * 2.0).backward(), Catch::Contains("does not require grad"));
  REQUIRE_THROWS_WITH(x.backward(zeros({3}, kFloat64)), Catch::Contains("[3]"));
}

TEST_CASE("deep chains do not recurse", "[autograd]") {
  Tensor x = leaf({1}, {1});
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y * 1.0;
  sum(y).backward();
  REQUIRE(x.grad().item<double>() == 1.0);
}

TEST_CASE("retain_grad keeps a non-leaf gradient", "[autograd]") {
  Tensor x = leaf({1, 2}, {2});
  Tensor h = x * 2.0;
  h.retain_grad();
  sum(h * h).backward();
  REQUIRE(h.grad().to_vector<double>() == std::vector<double>{4, 8});
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{8, 16});
}

TEST_CASE("nodes name their op and free saved tensors", "[autograd]") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = exp(x);
  REQUIRE(y.grad_fn()->name() == "exp");
  REQUIRE(y.grad_fn()->inputs().size() == 1);
  std::weak_ptr<autograd::Node> n = y.grad_fn();
  sum(y).backward();
  REQUIRE(n.lock()->released());
}
