// Uses the installed headers and library: one differentiable computation and a backward.
#include <retort.h>

#include <cstdio>

int main() {
  using namespace retort;
  Tensor x = from_vector(std::vector<double>{1.0, 2.0, 3.0}, {3}, kFloat64);
  x.set_requires_grad();
  Tensor y = sum(x * x);
  y.backward();
  auto g = x.grad().to_vector<double>();
  std::printf("consumer: y=%g grad=[%g %g %g]\n", y.item<double>(), g[0], g[1], g[2]);
  return (y.item<double>() == 14.0 && g[0] == 2.0 && g[2] == 6.0) ? 0 : 1;
}
