// Initialisers (see init.h); the formulas follow torch/nn/init.py so distributions match.
#include "nn/init.h"

#include <cmath>

#include "tensor/error.h"

namespace retort::nn::init {

double calculate_gain(Nonlinearity nl, double param) {
  switch (nl) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv:
    case Nonlinearity::Sigmoid:
      return 1.0;
    case Nonlinearity::Tanh:
      return 5.0 / 3.0;
    case Nonlinearity::ReLU:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: {
      double slope = param < 0 ? 0.01 : param;
      return std::sqrt(2.0 / (1.0 + slope * slope));
    }
    case Nonlinearity::SELU:
      return 0.75;
  }
  return 1.0;
}

std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  RETORT_CHECK(t.defined() && t.dim() >= 2,
               "calculate_fan_in_and_fan_out: needs a tensor with at "
               "least 2 dims, got ",
               t.defined() ? shape_str(t.sizes()) : std::string("undefined"));
  std::int64_t receptive = 1;
  for (std::int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

namespace {
std::int64_t fan(const Tensor& t, FanMode mode) {
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  std::int64_t f = mode == FanMode::FanIn ? in : out;
  RETORT_CHECK(f > 0, "kaiming init: tensor ", shape_str(t.sizes()), " has a zero fan");
  return f;
}
}  // namespace

void uniform_(const Tensor& t, double a, double b, Generator* gen) {
  retort::uniform_(t, a, b, gen);
}

void normal_(const Tensor& t, double mean, double std, Generator* gen) {
  retort::normal_(t, mean, std, gen);
}

// fill_ is a non-const member; a copy of the handle fills the same data.
void constant_(const Tensor& t, double value) { Tensor(t).fill_(value); }
void zeros_(const Tensor& t) { constant_(t, 0.0); }
void ones_(const Tensor& t) { constant_(t, 1.0); }

void kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nl, Generator* gen) {
  double std = calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan(t, mode)));
  double bound = std::sqrt(3.0) * std;  // U(−b, b) has standard deviation b/√3
  retort::uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(const Tensor& t, double a, FanMode mode, Nonlinearity nl, Generator* gen) {
  double std = calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan(t, mode)));
  retort::normal_(t, 0.0, std, gen);
}

void xavier_uniform_(const Tensor& t, double gain, Generator* gen) {
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  double std = gain * std::sqrt(2.0 / static_cast<double>(in + out));
  double bound = std::sqrt(3.0) * std;
  retort::uniform_(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, double gain, Generator* gen) {
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  retort::normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), gen);
}

}  // namespace retort::nn::init
