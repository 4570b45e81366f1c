// Window views (narrow, slice, select) of a tensor that has a node: the engine adds their
// gradients into one buffer it owns instead of adding zero-filled input-sized gradients. The
// reference is the same graph in anomaly mode, where every node runs its backward function
// (the scatter into zeros), and closed forms.
#include <algorithm>

#include "autograd/anomaly.h"
#include "autograd/engine.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "support/helpers.h"

using namespace retort;

namespace {

Tensor leaf(const Shape& s, std::uint64_t seed) {
  Tensor t = testing::random_tensor(s, kFloat64, seed);
  t.set_requires_grad();
  return t;
}

// x [4, 6] → h = 2x (a node) → overlapping narrows, a strided slice, a select and h itself.
std::vector<double> views_grad(bool anomaly) {
  autograd::AnomalyGuard guard(anomaly);
  Tensor x = leaf({4, 6}, 1);
  Tensor h = x * 2.0;
  Tensor loss = sum(narrow(h, 1, 0, 4) * testing::random_tensor({4, 4}, kFloat64, 2)) +
                sum(narrow(h, 1, 2, 4) * testing::random_tensor({4, 4}, kFloat64, 3)) +
                sum(slice(h, 0, 1, 4, 2) * testing::random_tensor({2, 6}, kFloat64, 4)) +
                sum(select(h, 1, 5) * testing::random_tensor({4}, kFloat64, 5)) +
                sum(h * testing::random_tensor({4, 6}, kFloat64, 6));
  loss.backward();
  return x.grad().to_vector<double>();
}

}  // namespace

TEST_CASE("window views of one tensor: the engine's buffer equals the scatter into zeros",
          "[autograd]") {
  std::vector<double> fast = views_grad(false), ref = views_grad(true);
  REQUIRE(fast.size() == ref.size());
  for (std::size_t i = 0; i < fast.size(); ++i) CHECK(fast[i] == Approx(ref[i]).epsilon(1e-14));
}

TEST_CASE("window views: the two halves of a split give the whole gradient", "[autograd]") {
  Tensor x = leaf({2, 4}, 7);
  Tensor h = x * 3.0;
  sum(narrow(h, 1, 0, 2) * 5.0 + narrow(h, 1, 2, 2) * 7.0).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{15, 15, 21, 21, 15, 15, 21, 21});
}

// z = h + h2 hands one tensor to both h and h2 as their first gradient; a window of h must go
// into a copy, or h2 (and so x) would receive it too. h2 has a second use whose gradient can
// arrive after the window's; every order of the three terms is tried, so the window gradient
// comes before, between and after the others.
TEST_CASE("window views never write into a gradient another input shares", "[autograd]") {
  std::vector<int> order{0, 1, 2};
  do {
    INFO("term order " << order[0] << order[1] << order[2]);
    Tensor x = leaf({3, 4}, 8);
    Tensor h = x * 2.0, h2 = x * 3.0;
    Tensor z = h + h2;
    z.retain_grad();
    Tensor terms[] = {sum(z), sum(narrow(h, 1, 1, 2) * 10.0), sum(h2 * 4.0)};
    ((terms[order[0]] + terms[order[1]]) + terms[order[2]]).backward();
    // dx = 2·(1 + 10·[column 1 or 2]) + 3·(1 + 4)
    std::vector<double> want;
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) want.push_back(c == 1 || c == 2 ? 37.0 : 17.0);
    CHECK(x.grad().to_vector<double>() == want);
    CHECK(z.grad().to_vector<double>() == std::vector<double>(12, 1.0));
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_CASE("window views: retain_graph runs twice, a freed graph is a clear error", "[autograd]") {
  Tensor x = leaf({2, 3}, 9);
  Tensor h = x * 2.0;
  Tensor y = sum(narrow(h, 1, 0, 2)) + sum(select(h, 1, 2));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>(6, 4.0));
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("already freed"));
}

TEST_CASE("window views of a leaf accumulate into its grad", "[autograd]") {
  Tensor x = leaf({2, 3}, 10);
  sum(narrow(x, 1, 0, 2) * 2.0 + narrow(x, 1, 1, 2) * 3.0).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 5, 3, 2, 5, 3});
}

TEST_CASE("window views: float64 gradcheck through a split and a select", "[autograd][gradcheck]") {
  Tensor x = testing::grad_leaf({3, 4}, 11);
  Tensor w = testing::random_tensor({3, 2}, kFloat64, 12);
  auto f = [&](const std::vector<Tensor>& in) {
    Tensor h = in[0] * in[0];
    return sum(narrow(h, 1, 0, 2) * w) + sum(narrow(h, 1, 2, 2) * narrow(h, 1, 1, 2)) +
           sum(select(h, 0, 2));
  };
  REQUIRE_GRADCHECK(f, std::vector<Tensor>{x});
}
