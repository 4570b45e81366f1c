// lwf_loss (kd/lwf.h): the value against Li & Hoiem's formula computed by hand in double, no
// gradient into the new classes' columns, the old columns' gradient (ŷ' − y')/(T·N), T² scaling,
// float64 gradchecks, shape errors.
#include "kd/lwf.h"

#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops/shape.h"
#include "support/helpers.h"
#include "tensor/views.h"

using namespace retort;
using namespace retort::kd;

namespace {
// −Σ_n Σ_k softmax(old/T)·log softmax(s[:, :K_old]/T) / N, in plain double loops.
double reference(const std::vector<double>& s, std::int64_t K, const std::vector<double>& old, std::int64_t Ko,
                 double T, std::vector<double>* grad = nullptr) {
  const std::int64_t N = static_cast<std::int64_t>(old.size()) / Ko;
  double loss = 0;
  if (grad) grad->assign(s.size(), 0.0);
  for (std::int64_t n = 0; n < N; ++n) {
    double zt = 0, zs = 0;
    for (std::int64_t k = 0; k < Ko; ++k) {
      zt += std::exp(old[n * Ko + k] / T);
      zs += std::exp(s[n * K + k] / T);
    }
    for (std::int64_t k = 0; k < Ko; ++k) {
      const double y = std::exp(old[n * Ko + k] / T) / zt, yh = std::exp(s[n * K + k] / T) / zs;
      loss -= y * std::log(yh);
      if (grad) (*grad)[n * K + k] = (yh - y) / (T * N);
    }
  }
  return loss / N;
}
}  // namespace

TEST_CASE("lwf_loss is Li & Hoiem's modified cross-entropy on the old classes", "[kd]") {
  Tensor s = testing::grad_leaf({5, 6}, 1);
  Tensor old = testing::grad_leaf({5, 4}, 2, false);
  std::vector<double> want_grad;
  const double want = reference(s.to_vector<double>(), 6, old.to_vector<double>(), 4, 2.0, &want_grad);
  Tensor loss = lwf_loss(s, old);
  CHECK(loss.item<double>() == Approx(want).epsilon(1e-12));
  loss.backward();
  std::vector<double> g = s.grad().to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(want_grad[i]).margin(1e-14));
  // The new classes' columns (4, 5) get exactly zero.
  CHECK(testing::max_abs_diff(ops::narrow(s.grad(), 1, 4, 2).contiguous(), zeros({5, 2}, kFloat64)) == 0);
  // T² scaling and another temperature.
  Tensor s2 = testing::grad_leaf({5, 6}, 1);
  CHECK(lwf_loss(s2, old, {.T = 1.0, .scale_T2 = true}).item<double>() ==
        Approx(reference(s2.to_vector<double>(), 6, old.to_vector<double>(), 4, 1.0)).epsilon(1e-12));
  CHECK(lwf_loss(s2, old, {.T = 4.0, .scale_T2 = true}).item<double>() ==
        Approx(16 * reference(s2.to_vector<double>(), 6, old.to_vector<double>(), 4, 4.0)).epsilon(1e-12));
}

TEST_CASE("lwf_loss gradchecks and shape errors", "[kd]") {
  Tensor s = testing::grad_leaf({4, 5}, 3);
  Tensor old = testing::grad_leaf({4, 3}, 4, false);
  for (LwfOptions o : {LwfOptions{}, LwfOptions{.T = 1.0}, LwfOptions{.T = 4.0, .scale_T2 = true}})
    REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return lwf_loss(x[0], old, o); }, std::vector<Tensor>{s});
  // K_old = K: plain soft cross-entropy over all classes.
  Tensor all = testing::grad_leaf({4, 5}, 5, false);
  REQUIRE_GRADCHECK([&](const std::vector<Tensor>& x) { return lwf_loss(x[0], all); }, std::vector<Tensor>{s});
  CHECK_THROWS_WITH(lwf_loss(s, testing::grad_leaf({4, 6}, 6, false)),
                    Catch::Contains("lwf_loss: student logits [4,5] and old logits [4,6]"));
  CHECK_THROWS_WITH(lwf_loss(s, testing::grad_leaf({3, 2}, 6, false)), Catch::Contains("K_old <= K"));
  CHECK_THROWS_WITH(lwf_loss(s, old, {.T = 0.0}), Catch::Contains("T must be > 0"));
}
