// LeakyReLU, Tanh and Upsample: thin modules over the autograd ops, so they can be tapped and
// printed like the other layers.
#include "nn/generator_layers.h"

#include <sstream>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/upsample.h"
#include "tensor/error.h"

namespace retort::nn {

Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope); }

std::string LeakyReLU::extra_repr() const {
  std::ostringstream os;
  os << "negative_slope=" << negative_slope;
  return os.str();
}

Tensor Tanh::forward(const Tensor& x) { return tanh(x); }

Upsample::Upsample(std::array<std::int64_t, 2> s) : scale_factor(s) {
  RETORT_CHECK(s[0] >= 1 && s[1] >= 1, "Upsample: scale factors must be >= 1, got ", s[0], " x ", s[1]);
}

Tensor Upsample::forward(const Tensor& x) { return upsample_nearest2d(x, scale_factor); }

std::string Upsample::extra_repr() const {
  std::ostringstream os;
  if (scale_factor[0] == scale_factor[1])
    os << "scale_factor=" << scale_factor[0] << ".0, mode=nearest";
  else
    os << "scale_factor=(" << scale_factor[0] << ".0, " << scale_factor[1] << ".0), mode=nearest";
  return os.str();
}

}  // namespace retort::nn
