// Inverted dropout: drop rate, exact 1/(1−p) scaling, identity in eval and at p = 0, the gradient
// mask/(1−p), reproducibility from the global seed, and the p range check.
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;

TEST_CASE("training dropout zeroes about p and scales the rest exactly", "[dropout]") {
  for (double p : {0.1, 0.5, 0.8}) {
    INFO("p " << p);
    manual_seed(3);
    Tensor x = full({100000}, 1.0, kFloat64) + rand({100000}, kFloat64);  // no zeros in x
    Tensor y = dropout(x, p, true);
    auto xv = x.to_vector<double>(), yv = y.to_vector<double>();
    const double scale = 1.0 / (1.0 - p);
    std::size_t zeros_ = 0;
    for (std::size_t i = 0; i < xv.size(); ++i) {
      if (yv[i] == 0.0) {
        ++zeros_;
      } else if (yv[i] != xv[i] * scale) {
        FAIL("element " << i << ": " << yv[i] << " != " << xv[i] << " * " << scale);
      }
    }
    REQUIRE(std::abs(static_cast<double>(zeros_) / xv.size() - p) < 0.01);
  }
  // float32 keeps the scale to float precision.
  Tensor xf = full({1000}, 2.0, kFloat32);
  for (double e : dropout(xf, 0.25, true).to_vector<double>())
    REQUIRE((e == 0.0 || e == Approx(2.0 / 0.75).epsilon(1e-6)));
}

TEST_CASE("dropout is the identity in eval and at p = 0", "[dropout]") {
  Tensor x = retort::testing::random_tensor({4, 5}, kFloat64, 1).set_requires_grad();
  REQUIRE_ALLCLOSE(dropout(x, 0.5, false), x, 0, 0);
  REQUIRE_ALLCLOSE(dropout(x, 0.0, true), x, 0, 0);
  // No random numbers are drawn in eval: the global stream is untouched.
  manual_seed(8);
  dropout(x, 0.5, false);
  double after = rand({1}, kFloat64).item<double>();
  manual_seed(8);
  REQUIRE(rand({1}, kFloat64).item<double>() == after);
}

TEST_CASE("dropout gradient is mask/(1-p)", "[dropout]") {
  const double p = 0.3;
  Tensor x = (full({50, 40}, 0.5, kFloat64) + rand({50, 40}, kFloat64)).set_requires_grad();
  Tensor y = dropout(x, p, true);
  Tensor g = retort::testing::random_tensor({50, 40}, kFloat64, 4);
  y.backward(g);
  auto xv = x.to_vector<double>(), yv = y.to_vector<double>(), gv = g.to_vector<double>();
  auto dx = x.grad().to_vector<double>();
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const double mask = yv[i] == 0.0 ? 0.0 : 1.0;
    REQUIRE(dx[i] == Approx(gv[i] * mask / (1.0 - p)).epsilon(1e-14));
  }
  // With the mask held fixed (same seed every call), finite differences agree.
  REQUIRE_GRADCHECK(
      [p](const std::vector<Tensor>& in) {
        manual_seed(11);
        return dropout(in[0], p, true);
      },
      std::vector<Tensor>{x});
}

TEST_CASE("dropout masks follow the global seed", "[dropout]") {
  Tensor x = ones({64}, kFloat64);
  manual_seed(21);
  auto a = dropout(x, 0.5, true).to_vector<double>();
  manual_seed(21);
  auto b = dropout(x, 0.5, true).to_vector<double>();
  auto c = dropout(x, 0.5, true).to_vector<double>();
  REQUIRE(a == b);
  REQUIRE(a != c);
}

TEST_CASE("dropout p outside [0, 1) is an error", "[dropout]") {
  Tensor x = ones({3});
  REQUIRE_THROWS_WITH(dropout(x, 1.0, true), Catch::Contains("dropout") && Catch::Contains("[0, 1)"));
  REQUIRE_THROWS_WITH(dropout(x, -0.1, true), Catch::Contains("dropout"));
  REQUIRE_THROWS_WITH(dropout(x, 1.5, false), Catch::Contains("dropout"));
}
