// Initialisation: PyTorch's default distributions for Linear and Conv2d, and each init function
// (bounds, means and variances over many draws), gains, fans, seeding.
#include <algorithm>
#include <cmath>

#include "nn/init.h"
#include "nn/nn.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using namespace retort::nn;

namespace {

struct Moments {
  double min, max, mean, var;
};

Moments moments(const Tensor& t) {
  auto v = t.to_vector<double>();
  Moments m{*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()), 0, 0};
  for (double e : v) m.mean += e;
  m.mean /= static_cast<double>(v.size());
  for (double e : v) m.var += (e - m.mean) * (e - m.mean);
  m.var /= static_cast<double>(v.size());
  return m;
}

// U(−b, b): all inside, extremes near ±b, mean 0, variance b²/3 (n draws: generous 5σ margins).
void require_uniform(const Tensor& t, double b) {
  Moments m = moments(t);
  double n = static_cast<double>(t.numel());
  REQUIRE(m.min >= -b);
  REQUIRE(m.max <= b);
  REQUIRE(m.min < -0.99 * b);
  REQUIRE(m.max > 0.99 * b);
  REQUIRE(std::abs(m.mean) < 5 * b / std::sqrt(3 * n));
  REQUIRE(m.var == Approx(b * b / 3).epsilon(0.03));
}

}  // namespace

TEST_CASE("Linear default init: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in))") {
  manual_seed(1);
  Linear lin(400, 300);
  require_uniform(lin.weight, 1.0 / std::sqrt(400.0));
  Moments b = moments(lin.bias);
  REQUIRE(b.min >= -0.05);
  REQUIRE(b.max <= 0.05);
  REQUIRE(b.var == Approx(0.05 * 0.05 / 3).epsilon(0.25));  // only 300 draws
}

TEST_CASE("Conv2d default init uses fan_in = C_in/groups·KH·KW") {
  manual_seed(2);
  Conv2d conv(32, 64, 3, 1, 1, 1, /*groups=*/2);
  double bound = 1.0 / std::sqrt(16.0 * 9.0);
  require_uniform(conv.weight, bound);
  Moments b = moments(conv.bias);
  REQUIRE(b.min >= -bound);
  REQUIRE(b.max <= bound);
  REQUIRE(b.max - b.min > bound);  // spread over the interval, not a constant
}

TEST_CASE("manual_seed makes initialisation reproducible") {
  manual_seed(42);
  Linear a(10, 10);
  manual_seed(42);
  Linear b(10, 10);
  REQUIRE(a.weight.to_vector<float>() == b.weight.to_vector<float>());
  REQUIRE(a.bias.to_vector<float>() == b.bias.to_vector<float>());
  Linear c(10, 10);
  REQUIRE(a.weight.to_vector<float>() != c.weight.to_vector<float>());
}

TEST_CASE("gains and fans follow torch.nn.init") {
  using init::Nonlinearity;
  REQUIRE(init::calculate_gain(Nonlinearity::Linear) == 1.0);
  REQUIRE(init::calculate_gain(Nonlinearity::Tanh) == Approx(5.0 / 3.0));
  REQUIRE(init::calculate_gain(Nonlinearity::ReLU) == Approx(std::sqrt(2.0)));
  REQUIRE(init::calculate_gain(Nonlinearity::LeakyReLU) == Approx(std::sqrt(2.0 / (1 + 0.0001))));
  REQUIRE(init::calculate_gain(Nonlinearity::LeakyReLU, std::sqrt(5.0)) ==
          Approx(std::sqrt(1.0 / 3.0)));
  REQUIRE(init::calculate_gain(Nonlinearity::SELU) == 0.75);
  auto [fi, fo] = init::calculate_fan_in_and_fan_out(zeros({8, 4, 3, 5}));
  REQUIRE(fi == 4 * 15);
  REQUIRE(fo == 8 * 15);
  REQUIRE_THROWS_WITH(init::calculate_fan_in_and_fan_out(zeros({5})), Catch::Contains("[5]"));
}

TEST_CASE("kaiming, xavier, uniform, normal, constant fills") {
  manual_seed(3);
  Tensor w = empty({256, 128, 3, 3});  // fan_in 1152, fan_out 2304
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU);
  require_uniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 1152));
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
  require_uniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 2304));
  init::xavier_uniform_(w, 2.0);
  require_uniform(w, 2.0 * std::sqrt(6.0 / (1152 + 2304)));
  init::uniform_(w, -3.0, 3.0);
  require_uniform(w, 3.0);

  init::kaiming_normal_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::ReLU);
  Moments k = moments(w);
  REQUIRE(std::sqrt(k.var) == Approx(std::sqrt(2.0 / 1152)).epsilon(0.01));
  REQUIRE(std::abs(k.mean) < 0.01 * std::sqrt(k.var));
  init::xavier_normal_(w);
  REQUIRE(std::sqrt(moments(w).var) == Approx(std::sqrt(2.0 / (1152 + 2304))).epsilon(0.01));
  init::normal_(w, 1.5, 0.5);
  Moments nm = moments(w);
  REQUIRE(nm.mean == Approx(1.5).epsilon(0.005));
  REQUIRE(std::sqrt(nm.var) == Approx(0.5).epsilon(0.01));

  Tensor d = empty({3, 4}, kFloat64);
  init::constant_(d, 2.5);
  REQUIRE(moments(d).min == 2.5);
  REQUIRE(moments(d).max == 2.5);
  init::zeros_(d);
  REQUIRE(moments(d).max == 0.0);
  init::ones_(d);
  REQUIRE(moments(d).min == 1.0);
}
