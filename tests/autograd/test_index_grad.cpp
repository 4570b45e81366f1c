// Gradients of joins and indexing: gradchecks for cat/stack along dims 0 and 1 (three inputs, one
// of them a constant), index_select and gather with repeated indices, and exact routing values.
#include "autograd/ops/index.h"
#include "autograd/ops/shape.h"
#include "support/helpers.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {
Tensor leaf(const Shape& s, std::uint64_t seed) {
  return random_tensor(s, kFloat64, seed).set_requires_grad();
}
Tensor i64(const std::vector<std::int64_t>& v, const Shape& s) { return from_vector(v, s); }
}  // namespace

TEST_CASE("cat gradcheck along dims 0 and 1", "[index_grad]") {
  Tensor c = random_tensor({2, 3}, kFloat64, 9);  // no grad
  SECTION("dim 0") {
    std::vector<Tensor> in{leaf({2, 3}, 1), c, leaf({4, 3}, 2)};
    REQUIRE_GRADCHECK([](const std::vector<Tensor>& xs) { return cat(xs, 0); }, in);
  }
  SECTION("dim 1") {
    std::vector<Tensor> in{leaf({2, 1}, 3), leaf({2, 4}, 4), c};
    REQUIRE_GRADCHECK([](const std::vector<Tensor>& xs) { return cat(xs, 1); }, in);
    REQUIRE_GRADCHECK([](const std::vector<Tensor>& xs) { return cat(xs, -1); }, in);
  }
}

TEST_CASE("cat routes each window of the gradient to its input", "[index_grad]") {
  Tensor a = leaf({1, 2}, 1), b = random_tensor({2, 2}, kFloat64, 2), d = leaf({1, 2}, 3);
  Tensor y = cat({a, b, d}, 0);
  REQUIRE(y.sizes() == Shape{4, 2});
  y.backward(from_vector({1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}, {4, 2}, kFloat64));
  REQUIRE_ALLCLOSE(a.grad(), from_vector({1.0, 2.0}, {1, 2}, kFloat64), 0, 0);
  REQUIRE_ALLCLOSE(d.grad(), from_vector({7.0, 8.0}, {1, 2}, kFloat64), 0, 0);
  REQUIRE_FALSE(b.grad().defined());
}

TEST_CASE("stack gradcheck along dims 0 and 1", "[index_grad]") {
  Tensor c = random_tensor({3, 2}, kFloat64, 9);
  std::vector<Tensor> in{leaf({3, 2}, 1), c, leaf({3, 2}, 2)};
  for (std::int64_t d : {0, 1, 2, -1}) {
    INFO("dim " << d);
    REQUIRE_GRADCHECK([d](const std::vector<Tensor>& xs) { return stack(xs, d); }, in);
  }
  Tensor a = leaf({2}, 5), b = leaf({2}, 6);
  stack({a, b}, 1).backward(from_vector({1.0, 2.0, 3.0, 4.0}, {2, 2}, kFloat64));
  REQUIRE_ALLCLOSE(a.grad(), from_vector({1.0, 3.0}, {2}, kFloat64), 0, 0);
  REQUIRE_ALLCLOSE(b.grad(), from_vector({2.0, 4.0}, {2}, kFloat64), 0, 0);
}

TEST_CASE("index_select gradcheck with repeated indices", "[index_grad]") {
  Tensor x = leaf({4, 3}, 1);
  Tensor idx = i64({3, 0, 3, 1, 3}, {5});
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return index_select(in[0], 0, idx); },
                    std::vector<Tensor>{x});
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return index_select(in[0], 1, i64({2, 2}, {2})); },
                    std::vector<Tensor>{x});
  Tensor y = leaf({3}, 2);
  index_select(y, 0, i64({2, 2, 0}, {3})).backward(ones({3}, kFloat64));
  REQUIRE_ALLCLOSE(y.grad(), from_vector({1.0, 0.0, 2.0}, {3}, kFloat64), 0, 0);
}

TEST_CASE("gather gradcheck with repeated indices", "[index_grad]") {
  Tensor x = leaf({3, 4}, 1);
  Tensor idx1 = i64({0, 0, 3, 2, 1, 1, 3, 3, 0}, {3, 3});
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return gather(in[0], 1, idx1); },
                    std::vector<Tensor>{x});
  Tensor idx0 = i64({2, 0, 2, 2, 1, 1, 0, 0}, {2, 4});
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return gather(in[0], 0, idx0); },
                    std::vector<Tensor>{x});
  // The classification-loss pattern: pick each row's label column.
  Tensor logits = leaf({2, 3}, 3);
  gather(logits, 1, i64({2, 0}, {2, 1})).backward(from_vector({1.0, 5.0}, {2, 1}, kFloat64));
  REQUIRE_ALLCLOSE(logits.grad(), from_vector({0.0, 0.0, 1.0, 5.0, 0.0, 0.0}, {2, 3}, kFloat64), 0, 0);
}

TEST_CASE("one_hot carries no gradient", "[index_grad]") {
  Tensor oh = one_hot(i64({1, 0}, {2}), 3, kFloat64);
  REQUIRE_FALSE(oh.requires_grad());
  REQUIRE_ALLCLOSE(oh, from_vector({0.0, 1.0, 0.0, 1.0, 0.0, 0.0}, {2, 3}, kFloat64), 0, 0);
}
