// Gradients of the differentiable reductions: float64 finite-difference checks over several dim
// sets (including keepdim and all dims), plus exact values where the gradient is simple.
#include "autograd/ops/reduce.h"
#include "support/helpers.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {
Tensor leaf(const Shape& s, std::uint64_t seed) {
  return random_tensor(s, kFloat64, seed).set_requires_grad();
}
const std::vector<Dims> kDimSets = {{}, {0}, {1}, {-1}, {0, 2}, {1, 2}, {0, 1, 2}};
}  // namespace

TEST_CASE("sum and mean gradcheck over several dims", "[reduce_grad]") {
  Tensor x = leaf({3, 4, 5}, 1);
  for (const Dims& dims : kDimSets)
    for (bool keep : {false, true}) {
      INFO("dims " << shape_str(dims) << " keepdim " << keep);
      REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return sum(in[0], dims, keep); },
                        std::vector<Tensor>{x});
      REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return mean(in[0], dims, keep); },
                        std::vector<Tensor>{x});
    }
}

TEST_CASE("sum and mean gradients are exact", "[reduce_grad]") {
  Tensor x = leaf({2, 3}, 2);
  sum(x, {1}).backward(from_vector({1.0, 2.0}, {2}, kFloat64));
  REQUIRE_ALLCLOSE(x.grad(), from_vector({1.0, 1.0, 1.0, 2.0, 2.0, 2.0}, {2, 3}, kFloat64), 0, 0);
  Tensor y = leaf({2, 3}, 3);
  mean(y).backward();
  REQUIRE_ALLCLOSE(y.grad(), full({2, 3}, 1.0 / 6.0, kFloat64), 1e-15, 0);
}

TEST_CASE("var, logsumexp and norm gradcheck", "[reduce_grad]") {
  Tensor x = leaf({3, 4, 5}, 4);
  for (const Dims& dims : kDimSets)
    for (bool keep : {false, true}) {
      INFO("dims " << shape_str(dims) << " keepdim " << keep);
      for (int corr : {0, 1})
        REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return var(in[0], dims, corr, keep); },
                          std::vector<Tensor>{x});
      if (!dims.empty())
        REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return logsumexp(in[0], dims, keep); },
                          std::vector<Tensor>{x});
      for (double p : {1.0, 2.0, 3.0, 1.5})
        REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return norm(in[0], p, dims, keep); },
                          std::vector<Tensor>{x});
    }
  // logsumexp over every dim, listed explicitly.
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return logsumexp(in[0], {0, 1, 2}); },
                    std::vector<Tensor>{x});
}

TEST_CASE("norm at zero has a zero gradient", "[reduce_grad]") {
  Tensor z = zeros({3}, kFloat64).set_requires_grad();
  norm(z).backward();
  REQUIRE_ALLCLOSE(z.grad(), zeros({3}, kFloat64), 0, 0);
}

TEST_CASE("max/min values and amax gradcheck", "[reduce_grad]") {
  Tensor x = leaf({3, 4, 5}, 5);
  for (std::int64_t d : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      INFO("dim " << d << " keepdim " << keep);
      REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return max(in[0], d, keep).values; },
                        std::vector<Tensor>{x});
      REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return min(in[0], d, keep).values; },
                        std::vector<Tensor>{x});
    }
  REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return amax(in[0]); }, std::vector<Tensor>{x});
}

TEST_CASE("max gradient goes to the first arg-max; indices and argmax carry none", "[reduce_grad]") {
  Tensor x = from_vector({1.0, 3.0, 3.0, 2.0}, {1, 4}, kFloat64).set_requires_grad();
  auto r = max(x, 1);
  REQUIRE_FALSE(r.indices.requires_grad());
  r.values.backward(from_vector({2.0}, {1}, kFloat64));
  REQUIRE_ALLCLOSE(x.grad(), from_vector({0.0, 2.0, 0.0, 0.0}, {1, 4}, kFloat64), 0, 0);

  Tensor y = from_vector({5.0, 1.0, 5.0}, {3}, kFloat64).set_requires_grad();
  Tensor m = amax(y);
  REQUIRE(m.dim() == 0);
  m.backward();
  REQUIRE_ALLCLOSE(y.grad(), from_vector({1.0, 0.0, 0.0}, {3}, kFloat64), 0, 0);
  REQUIRE_FALSE(argmax(y, 0).requires_grad());
}

TEST_CASE("differentiable reductions report bad dims by op name", "[reduce_grad]") {
  Tensor x = leaf({2, 3}, 6);
  REQUIRE_THROWS_WITH(sum(x, {2}), Catch::Contains("sum") && Catch::Contains("out of range"));
  REQUIRE_THROWS_WITH(var(x, {0, 0}), Catch::Contains("var") && Catch::Contains("more than once"));
  REQUIRE_THROWS_WITH(max(x, 5), Catch::Contains("max"));
}
