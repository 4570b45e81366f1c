// Parameter initialisation (namespace retort::nn::init), as torch.nn.init. Every function fills
// a floating CPU tensor in place, outside the graph, from the global generator
// (tensor/random.h; seed it with manual_seed) unless a generator is given.
//
// Fans of a weight w of shape [OUT, IN, k1, k2, ...] (Linear [OUT, IN]; Conv2d [C_out,
// C_in/groups, KH, KW]): receptive = k1·k2·…, fan_in = IN·receptive, fan_out = OUT·receptive.
//
//   kaiming_uniform_(w, a, mode, nl): U(−b, b), b = gain·√(3 / fan),  fan = fan_in or fan_out
//   kaiming_normal_(w, a, mode, nl):  N(0, std²), std = gain / √fan
//   xavier_uniform_(w, gain):         U(−b, b), b = gain·√(6 / (fan_in + fan_out))
//   xavier_normal_(w, gain):          N(0, std²), std = gain·√(2 / (fan_in + fan_out))
// with gain = calculate_gain(nl, a): linear/conv/sigmoid 1, tanh 5/3, relu √2,
// leaky_relu √(2 / (1 + a²)), selu 3/4.
//
// PyTorch's default for Linear and Conv2d is kaiming_uniform_(w, a = √5): gain = √(1/3), so
// b = 1/√fan_in, and bias ~ U(−1/√fan_in, 1/√fan_in) (nn/linear.h).
#pragma once
#include <utility>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace retort::nn::init {

enum class Nonlinearity { Linear, Conv, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };
enum class FanMode { FanIn, FanOut };

// Gain for a nonlinearity; param is leaky_relu's negative slope (0.01 when < 0, i.e. unset).
double calculate_gain(Nonlinearity nl, double param = -1.0);
// {fan_in, fan_out} of a tensor with at least 2 dims (throws naming the shape otherwise).
std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

void uniform_(const Tensor& t, double a = 0.0, double b = 1.0, Generator* gen = nullptr);
void normal_(const Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);
void kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                      Nonlinearity nl = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
void kaiming_normal_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                     Nonlinearity nl = Nonlinearity::LeakyReLU, Generator* gen = nullptr);
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator* gen = nullptr);

}  // namespace retort::nn::init
