// float64 gradchecks for the differentiable views.
#include "autograd/ops/elementwise.h"
#include "autograd/ops/shape.h"
#include "support/helpers.h"

using namespace retort;

namespace {
using V = const std::vector<Tensor>&;
std::vector<Tensor> input(const Shape& s) {
  Tensor t = testing::random_tensor(s, kFloat64, 11);
  t.set_requires_grad();
  return {t};
}
}  // namespace

TEST_CASE("views pass gradcheck", "[autograd][gradcheck]") {
  auto x = input({2, 3, 4});
  REQUIRE_GRADCHECK([](V v) { return view(v[0], {6, 4}); }, x);
  REQUIRE_GRADCHECK([](V v) { return reshape(transpose(v[0], 0, 2), {4, -1}); }, x);
  REQUIRE_GRADCHECK([](V v) { return flatten(v[0], 1); }, x);
  REQUIRE_GRADCHECK([](V v) { return permute(v[0], {2, 0, 1}) * 2.0; }, x);
  REQUIRE_GRADCHECK([](V v) { return narrow(v[0], 2, 1, 2); }, x);
  REQUIRE_GRADCHECK([](V v) { return slice(v[0], 2, 0, 4, 3); }, x);
  REQUIRE_GRADCHECK([](V v) { return select(v[0], 1, -1); }, x);
  REQUIRE_GRADCHECK([](V v) { return squeeze(unsqueeze(v[0], 1), 1); }, x);
  REQUIRE_GRADCHECK([](V v) { return contiguous(transpose(v[0], 1, 2)); }, x);
  auto b = input({3, 1});
  REQUIRE_GRADCHECK([](V v) { return expand(v[0], {2, 3, 5}); }, b);
}

TEST_CASE("overlapping slices accumulate", "[autograd]") {
  auto x = input({6});
  Tensor y = narrow(x[0], 0, 0, 4) + narrow(x[0], 0, 2, 4);
  y.backward(ones({4}, kFloat64));
  REQUIRE(x[0].grad().to_vector<double>() == std::vector<double>{1, 1, 2, 2, 1, 1});
}
