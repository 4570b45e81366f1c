// Image transforms on batches x [B, C, H, W] (any dtype for crop/flip, floating for normalize).
// Random ones draw per sample, b = 0..B−1 in order, from the Generator passed in, so a seeded
// generator reproduces them exactly. Each returns a new packed tensor; x is not modified.
//
// For a DataLoader, wrap them with compose():
//   options.transform = compose({RandomCrop{32, 4}, RandomHFlip{}, Normalize{kImageNetMean, kImageNetStd}});
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "data/dataset.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace retort::data {

// Per-channel RGB statistics of ImageNet (torchvision's defaults).
inline const std::vector<double> kImageNetMean{0.485, 0.456, 0.406};
inline const std::vector<double> kImageNetStd{0.229, 0.224, 0.225};
// Per-channel RGB statistics of the CIFAR-100 train split (byte/255), as RepDistiller normalises
// CIFAR-100 (dataset/cifar100.py). Its training augmentation is compose({RandomCrop{32, 4},
// RandomHFlip{}, Normalize{kCifar100Mean, kCifar100Std}}); testing only normalises.
inline const std::vector<double> kCifar100Mean{0.5071, 0.4867, 0.4408};
inline const std::vector<double> kCifar100Std{0.2675, 0.2565, 0.2761};

// out[b,c,h,w] = (x[b,c,h,w] − mean[c]) / std[c]; mean and std hold C values, std > 0.
Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& std);

// Zero-pads x by `padding` on all four sides, giving xp [B, C, H+2p, W+2p], and cuts a size×size
// window per sample: out[b,c,i,j] = xp[b,c, tops[b]+i, lefts[b]+j], out [B, C, size, size].
// Needs 0 ≤ tops[b] ≤ H+2p−size and 0 ≤ lefts[b] ≤ W+2p−size.
Tensor crop(const Tensor& x, const std::vector<std::int64_t>& tops, const std::vector<std::int64_t>& lefts,
            std::int64_t size, std::int64_t padding = 0);
// crop() at offsets drawn uniformly: tops = randint(0, H+2p−size+1, [B], gen), then
// lefts = randint(0, W+2p−size+1, [B], gen). CIFAR augmentation is size 32, padding 4.
Tensor random_crop(const Tensor& x, std::int64_t size, std::int64_t padding, Generator& gen);

// out[b] = x[b] mirrored along W (out[b,c,h,w] = x[b,c,h,W−1−w]) where flip[b], else x[b].
Tensor hflip(const Tensor& x, const std::vector<bool>& flip);
// hflip() with flip[b] = (gen.uniform() < p), drawn for b = 0..B−1.
Tensor random_hflip(const Tensor& x, Generator& gen, double p = 0.5);

// Transforms as values, for compose().
using ImageTransform = std::function<Tensor(const Tensor& x, Generator& gen)>;
struct Normalize {
  std::vector<double> mean, std;
  Tensor operator()(const Tensor& x, Generator&) const { return normalize(x, mean, std); }
};
struct RandomCrop {
  std::int64_t size;
  std::int64_t padding = 0;
  Tensor operator()(const Tensor& x, Generator& gen) const { return random_crop(x, size, padding, gen); }
};
struct RandomHFlip {
  double p = 0.5;
  Tensor operator()(const Tensor& x, Generator& gen) const { return random_hflip(x, gen, p); }
};

// A loader transform applying the steps in order to batch.inputs, all drawing from one generator.
BatchTransform compose(std::vector<ImageTransform> steps);

}  // namespace retort::data
