// grow_linear (see incremental.h). The grown tensors replace the data behind the existing
// parameter impls instead of registering new parameters: a model's parameter list, its hooks
// and anything else holding `fc.weight` keep pointing at the live head.
#include "nn/incremental.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "nn/init.h"
#include "tensor/error.h"
#include "tensor/index.h"

namespace retort::nn {

namespace {

// cat(old, rows) with rows [k, ...] ~ U(−bound, bound) in old's dtype and device.
Tensor grown(const Tensor& old, std::int64_t k, double bound, Generator* gen) {
  Shape s = old.sizes();
  s[0] = k;
  Tensor rows = empty(s, old.dtype(), kCPU);
  init::uniform_(rows, -bound, bound, gen);
  return ops::cat({old, rows.to(old.device())}, 0);
}

}  // namespace

void grow_linear(Linear& fc, std::int64_t k, Generator* gen) {
  RETORT_CHECK(k >= 1, "grow_linear: k must be >= 1, got ", k, " (weight ", shape_str(fc.weight.sizes()), ")");
  NoGradGuard ng;
  // Linear's default init: kaiming_uniform_(a = √5) is U(−1/√IN, 1/√IN), the bias likewise.
  const double bound = 1.0 / std::sqrt(static_cast<double>(fc.in_features));
  // A gradient of the old shape would not fit the grown tensor: dropped.
  adopt_data(fc.weight, grown(fc.weight, k, bound, gen));
  fc.weight.impl()->grad = nullptr;
  if (fc.bias.defined()) {
    adopt_data(fc.bias, grown(fc.bias, k, bound, gen));
    fc.bias.impl()->grad = nullptr;
  }
  fc.out_features += k;
}

}  // namespace retort::nn
