// Hooks rather than a shape formula per layer type: the forward itself tells each layer's output
// size, so any model built from Conv2d, ConvTranspose2d and Linear is counted without knowing its structure.
#include "nn/macs.h"

#include <vector>

#include "autograd/grad_mode.h"
#include "nn/linear.h"
#include "tensor/error.h"

namespace retort::nn {

std::int64_t count_macs(Module& model, const Shape& input_chw) {
  RETORT_CHECK(input_chw.size() == 3, "count_macs: input shape must be [C, H, W], got ",
               input_chw.size(), " dims");
  std::int64_t macs = 0;
  std::vector<HookHandle> hooks;
  for (auto& [path, m] : model.named_modules()) {
    if (auto* conv = dynamic_cast<Conv2d*>(m.get())) {
      std::int64_t per_output = conv->weight.size(1) * conv->kernel_size[0] * conv->kernel_size[1];
      hooks.push_back(m->register_forward_hook(
          [&macs, per_output](const Module&, const Tensor&, const Tensor& y) {
            macs += y.numel() * per_output;
          }));
    } else if (auto* up = dynamic_cast<ConvTranspose2d*>(m.get())) {
      std::int64_t per_input = up->weight.size(1) * up->kernel_size[0] * up->kernel_size[1];
      hooks.push_back(m->register_forward_hook(
          [&macs, per_input](const Module&, const Tensor& x, const Tensor&) {
            macs += x.numel() * per_input;
          }));
    } else if (auto* lin = dynamic_cast<Linear*>(m.get())) {
      std::int64_t in = lin->in_features;
      hooks.push_back(m->register_forward_hook(
          [&macs, in](const Module&, const Tensor&, const Tensor& y) { macs += y.numel() * in; }));
    }
  }
  bool was_training = model.is_training();
  model.eval();
  {
    NoGradGuard ng;
    DType dtype = kFloat32;
    Device device = kCPU;
    auto params = model.parameters();
    if (!params.empty()) {
      dtype = params.front().dtype();
      device = params.front().device();
    }
    model(zeros({1, input_chw[0], input_chw[1], input_chw[2]}, dtype, device));
  }
  model.train(was_training);
  return macs;
}

}  // namespace retort::nn
