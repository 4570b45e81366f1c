// DAFL's generator. The two upsamplings are calls in forward (F.interpolate in the reference),
// not modules, so the Sequential indices — and the state-dict names — are the reference's.
#include "kd/dafl_generator.h"

#include "autograd/ops/shape.h"
#include "autograd/ops/upsample.h"
#include "nn/generator_layers.h"
#include "tensor/error.h"
#include "tensor/shape.h"

namespace retort::kd {

DaflGenerator::DaflGenerator(std::int64_t latent, std::int64_t size, std::int64_t ch, std::int64_t w)
    : latent_dim(latent), image_size(size), channels(ch), width(w) {
  RETORT_CHECK(latent > 0 && ch > 0 && size >= 4 && size % 4 == 0 && w >= 2 && w % 2 == 0, "DaflGenerator: latent_dim ",
               latent, ", image_size ", size, " (a multiple of 4), channels ", ch, " and width ", w,
               " (even) must be positive");
  const std::int64_t s = size / 4, h = w / 2;
  l1_ = register_module("l1", nn::make_sequential(std::make_shared<nn::Linear>(latent, w * s * s)));
  blocks0_ = register_module("conv_blocks0", nn::make_sequential(std::make_shared<nn::BatchNorm2d>(w)));
  blocks1_ = register_module(
      "conv_blocks1", nn::make_sequential(std::make_shared<nn::Conv2d>(w, w, 3, 1, 1),
                                          std::make_shared<nn::BatchNorm2d>(w, 0.8),
                                          std::make_shared<nn::LeakyReLU>(0.2)));
  blocks2_ = register_module(
      "conv_blocks2",
      nn::make_sequential(std::make_shared<nn::Conv2d>(w, h, 3, 1, 1), std::make_shared<nn::BatchNorm2d>(h, 0.8),
                          std::make_shared<nn::LeakyReLU>(0.2), std::make_shared<nn::Conv2d>(h, ch, 3, 1, 1),
                          std::make_shared<nn::Tanh>(),
                          std::make_shared<nn::BatchNorm2d>(ch, 1e-5, 0.1, /*affine=*/false)));
}

Tensor DaflGenerator::forward(const Tensor& z) {
  RETORT_CHECK(z.dim() == 2 && z.size(1) == latent_dim, "DaflGenerator: z must be [B, ", latent_dim, "], got ",
               shape_str(z.sizes()));
  const std::int64_t s = image_size / 4;
  Tensor x = reshape((*l1_)(z), {z.size(0), width, s, s});
  x = upsample_nearest2d((*blocks0_)(x), 2);
  x = upsample_nearest2d((*blocks1_)(x), 2);
  return (*blocks2_)(x);
}

}  // namespace retort::kd
