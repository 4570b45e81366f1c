// Anomaly mode: forward and backward NaN/Inf reports (op, direction, shapes), off by default, the
// guard's scoping (nested, on exception, per thread). Every op type: test_anomaly_ops.cpp.
#include <cmath>
#include <limits>
#include <thread>

#include "autograd/anomaly.h"
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "support/helpers.h"

using namespace retort;
using autograd::AnomalyGuard;
using Catch::Contains;

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

Tensor leaf(const std::vector<double>& v, const Shape& s, DType dt = kFloat32) {
  Tensor t = from_vector(v, s, dt);
  t.set_requires_grad();
  return t;
}

// [4,5] values i − 9.5 (half of them negative, none zero), requiring grad.
Tensor ramp() {
  std::vector<double> v(20);
  for (int i = 0; i < 20; ++i) v[i] = i - 9.5;
  return leaf(v, {4, 5});
}

// The NaN-making graph: log of a product that is negative for 10 of the 20 elements.
Tensor log_of_negative(const Tensor& x) { return sum(log(x * 2.0) * 3.0 + 1.0); }

}  // namespace

TEST_CASE("anomaly mode reports the forward op that created a NaN", "[autograd]") {
  AnomalyGuard anomaly;
  Tensor x = ramp();
  // log is named, not the loss at the end of the expression.
  REQUIRE_THROWS_WITH(log_of_negative(x),
                      Contains("anomaly: forward of log produced NaN in its output [4,5] (inputs [4,5])") &&
                          Contains("10 of 20 elements are NaN"));
  Tensor z = leaf({0, 1, 2}, {3});
  REQUIRE_THROWS_WITH(z / z, Contains("forward of div produced NaN in its output [3] (inputs [3], [3])") &&
                                 Contains("1 of 3 elements are NaN"));
  REQUIRE_THROWS_WITH(sqrt(z - 1.0), Contains("forward of sqrt produced NaN") && Contains("[3]"));
  // Overflow is reported as inf, mixed cases as both.
  REQUIRE_THROWS_WITH(exp(z * 100.0), Contains("forward of exp produced inf in its output [3]") &&
                                          Contains("2 of 3 elements are inf"));
  REQUIRE_THROWS_WITH(log(z - 1.0), Contains("forward of log produced NaN and inf") &&
                                        Contains("1 of 3 elements are NaN, 1 inf"));
  // Ops under no_grad (no node is built) are checked too, batch_norm's shortcut included.
  NoGradGuard ng;
  REQUIRE_THROWS_WITH(log(z - 1.0), Contains("forward of log"));
  Tensor img = full({2, 1, 2, 2}, 1.0);
  REQUIRE_THROWS_WITH(batch_norm(img, Tensor(), Tensor(), zeros({1}), full({1}, -1.0), false),
                      Contains("forward of batch_norm produced NaN in its output [2,1,2,2] (inputs [2,1,2,2], -, -)"));
}

TEST_CASE("anomaly mode names an input that was already non-finite and where it came from", "[autograd]") {
  AnomalyGuard anomaly;
  Tensor p = leaf({1, kNaN, 3}, {3});
  REQUIRE_THROWS_WITH(p * 2.0, Contains("forward of mul produced NaN") &&
                                   Contains("its input 0 [3] already held NaN (a leaf or constant"));
  Tensor x = leaf({1, -1}, {2});
  Tensor h;
  {
    AnomalyGuard off(false);
    h = log(x);  // NaN, unchecked
  }
  REQUIRE_THROWS_WITH(h + 1.0, Contains("forward of add") &&
                                   Contains("input 0 [2] already held NaN (the output of log, unchecked"));
}

TEST_CASE("anomaly mode reports the backward op and its shapes", "[autograd]") {
  AnomalyGuard anomaly;
  SECTION("sqrt at 0: an infinite gradient") {
    Tensor x = leaf({0, 1, 4}, {3});
    Tensor y = sum(sqrt(x));
    REQUIRE_THROWS_WITH(y.backward(), Contains("anomaly: backward of sqrt produced inf in its gradient for "
                                               "input 0 [3] (inputs [3]): 1 of 3 elements are inf"));
  }
  SECTION("0 · ∞ inside sqrt's backward: NaN, on a [4,5] input") {
    Tensor x = leaf(std::vector<double>(20, 0.0), {4, 5});
    Tensor y = sum(sqrt(x) * 0.0);
    REQUIRE_THROWS_WITH(y.backward(), Contains("anomaly: backward of sqrt produced NaN in its gradient for "
                                               "input 0 [4,5] (inputs [4,5])"));
  }
  SECTION("two inputs of different shapes: the one whose gradient overflowed is named") {
    Tensor a = leaf(std::vector<double>(20, 1.0), {4, 5});
    Tensor b = leaf({1, 1, 1e-30, 1, 1}, {5});  // b² underflows to 0 in float32: −a/b² = −inf
    Tensor y = sum(a / b);
    REQUIRE(std::isfinite(y.item<double>()));
    REQUIRE_THROWS_WITH(y.backward(), Contains("backward of div produced inf in its gradient for input 1 [5] "
                                               "(inputs [4,5], [5])"));
  }
  SECTION("the gradient handed to backward()") {
    Tensor x = leaf({1, 2}, {2});
    Tensor y = x * 3.0;
    REQUIRE_THROWS_WITH(y.backward(from_vector(std::vector<double>{1, kNaN}, {2})),
                        Contains("anomaly: the gradient passed to backward() for [2] holds NaN"));
  }
  SECTION("gradients that are finite alone but overflow when summed") {
    Tensor x = leaf({1e-30}, {1});
    Tensor h = x * 1.0;
    Tensor y = h * 3e38 + h * 3e38;  // values near 1e8; each path's gradient 3e38, their sum inf
    REQUIRE_THROWS_WITH(sum(y).backward(), Contains("the gradient reaching the backward of mul holds inf") &&
                                               Contains("their sum overflowed"));
  }
}

TEST_CASE("anomaly mode is off by default and the same graphs then run without error", "[autograd]") {
  REQUIRE_FALSE(autograd::detect_anomaly());
  Tensor x = ramp();
  Tensor y;
  REQUIRE_NOTHROW(y = log_of_negative(x));
  REQUIRE(std::isnan(y.item<double>()));
  Tensor z = leaf({0, 1, 4}, {3});
  REQUIRE_NOTHROW(sum(sqrt(z)).backward());
  std::vector<double> g = z.grad().to_vector<double>();
  REQUIRE(std::isinf(g[0]));
  REQUIRE(g[1] == 0.5);
  REQUIRE(g[2] == 0.25);
}

TEST_CASE("AnomalyGuard restores the previous state: nested, on exception, per thread", "[autograd]") {
  REQUIRE_FALSE(autograd::detect_anomaly());
  {
    AnomalyGuard on;
    REQUIRE(autograd::detect_anomaly());
    {
      AnomalyGuard off(false);
      REQUIRE_FALSE(autograd::detect_anomaly());
      REQUIRE_NOTHROW(log_of_negative(ramp()));
    }
    REQUIRE(autograd::detect_anomaly());
    REQUIRE_THROWS_AS(log_of_negative(ramp()), Error);
    bool other_thread = true;
    std::thread([&] { other_thread = autograd::detect_anomaly(); }).join();
    REQUIRE_FALSE(other_thread);
  }
  REQUIRE_FALSE(autograd::detect_anomaly());
  try {
    AnomalyGuard on;
    log_of_negative(ramp());
    FAIL("no anomaly reported");
  } catch (const Error& e) {
    REQUIRE_THAT(e.what(), Contains("forward of log"));
  }
  REQUIRE_FALSE(autograd::detect_anomaly());
  autograd::set_detect_anomaly(true);
  { AnomalyGuard off(false); }
  REQUIRE(autograd::detect_anomaly());
  autograd::set_detect_anomaly(false);
}

TEST_CASE("anomaly mode leaves finite results and gradients unchanged", "[autograd]") {
  auto run = [](bool on) {
    AnomalyGuard g(on);
    Tensor x = testing::grad_leaf({3, 4}, 7);
    Tensor y = sum(tanh(x) * exp(x) / (abs(x) + 1.0));
    y.backward();
    return std::pair{y.item<double>(), x.grad().to_vector<double>()};
  };
  auto [v_off, g_off] = run(false);
  auto [v_on, g_on] = run(true);
  REQUIRE(v_on == v_off);
  REQUIRE(g_on == g_off);
}
