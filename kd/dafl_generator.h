// DAFL's generator (Chen et al. 2019; reference huawei-noah's DAFL-train.py, class Generator),
// with its layers, its quirks and its state-dict names:
//
//   z [B, L] → l1.0 Linear(L, 128·S²) → view [B, 128, S, S]  (128, 128, 64: see width below)                  S = image_size / 4
//   conv_blocks0.0 BatchNorm2d(128)                         → upsample ×2 (nearest)
//   conv_blocks1: 0 Conv2d(128, 128, 3, p1), 1 BatchNorm2d(128, eps 0.8), 2 LeakyReLU(0.2)
//                                                           → upsample ×2 (nearest)
//   conv_blocks2: 0 Conv2d(128, 64, 3, p1), 1 BatchNorm2d(64, eps 0.8), 2 LeakyReLU(0.2),
//                 3 Conv2d(64, C, 3, p1), 4 Tanh, 5 BatchNorm2d(C, affine = false)
//   → images [B, C, image_size, image_size]
// The eps of 0.8 is the reference's (BatchNorm2d(128, 0.8) passes 0.8 as eps), and the last
// BatchNorm (no affine) standardises each channel of the batch, which puts the images at roughly
// the scale of normalised data. PyTorch's default initialisation. `width` (128 in the reference)
// scales the hidden channels: width, width and width / 2 in place of 128, 128 and 64.
#pragma once
#include <cstdint>
#include <memory>

#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace retort::kd {

class DaflGenerator : public nn::Module {
 public:
  // image_size divisible by 4; channels ≥ 1; latent ≥ 1; width even, ≥ 2.
  explicit DaflGenerator(std::int64_t latent_dim = 1000, std::int64_t image_size = 32, std::int64_t channels = 3,
                         std::int64_t width = 128);
  // z [B, latent_dim] → [B, channels, image_size, image_size].
  Tensor forward(const Tensor& z) override;
  std::string type_name() const override { return "DaflGenerator"; }

  std::int64_t latent_dim, image_size, channels, width;

 private:
  std::shared_ptr<nn::Sequential> l1_, blocks0_, blocks1_, blocks2_;
};

}  // namespace retort::kd
