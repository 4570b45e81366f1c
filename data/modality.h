// Image modalities derived from RGB, for cross-modal distillation (a teacher on RGB, a student on
// a modality computed from the same image). All take a batch of RGB images in [0, 1]
// x [B, 3, H, W] (floating, cpu) and return a new packed tensor; x is not modified.
//
//   grayscale(x)        [B, 1, H, W]  Y = 0.299·R + 0.587·G + 0.114·B (ITU-R BT.601 luma, as
//                                     PIL's convert("L") and torchvision's rgb_to_grayscale)
//   sobel_magnitude(g)  [B, C, H, W] → [B, C, H, W], per channel
//                       Gx = [−1 0 1; −2 0 2; −1 0 1] ⋆ g,  Gy = Gxᵀ ⋆ g  (cross-correlation, as
//                       OpenCV's Sobel), out = √(Gx² + Gy²), in [0, 4√2] for g in [0, 1]; the
//                       border replicates the edge pixel (g[clamp(h)][clamp(w)]), so a flat image
//                       has magnitude 0 everywhere, borders included
//   to_modality(x, m)   Gray: grayscale(x); Edge: sobel_magnitude(grayscale(x));
//                       GrayEdge: cat(gray, edge) along C → [B, 2, H, W]
//
// paired_modality(x, …) is the paired view: one tensor [B, 3 + Cm, H, W] holding the normalised
// RGB image in channels 0..2 (the teacher's input) and its normalised modality in channels 3..
// (the student's), both from the same x — so any crop or flip applied to x before it holds for
// both views. As a loader step: compose({RandomCrop{32, 4}, RandomHFlip{}, PairedModality{…}}).
// The models read their channels with nn::ChannelSlice (nn/channel_slice.h).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace retort::data {

enum class Modality { Gray, Edge, GrayEdge };

// "gray", "edge", "gray+edge".
std::string modality_name(Modality m);
// The inverse of modality_name; throws naming the known names.
Modality parse_modality(const std::string& name);
// Channels of to_modality's output: 1, 1, 2.
std::int64_t modality_channels(Modality m);

// BT.601 luma weights of R, G, B.
inline constexpr double kLumaR = 0.299, kLumaG = 0.587, kLumaB = 0.114;

Tensor grayscale(const Tensor& x);
Tensor sobel_magnitude(const Tensor& gray);
Tensor to_modality(const Tensor& x, Modality m);

// Per-channel mean and (population) standard deviation of x [B, C, H, W] over B·H·W values,
// accumulated in double: the constants to normalise a derived modality with.
std::pair<std::vector<double>, std::vector<double>> channel_mean_std(const Tensor& x);
// channel_mean_std(to_modality(x, m)), computed in chunks of `chunk` images (no full copy).
std::pair<std::vector<double>, std::vector<double>> modality_mean_std(const Tensor& x, Modality m,
                                                                      std::int64_t chunk = 1000);

// cat(normalize(x, rgb_mean, rgb_std), normalize(to_modality(x, m), mod_mean, mod_std)) along C:
// [B, 3 + Cm, H, W]. mod_mean / mod_std hold Cm values.
Tensor paired_modality(const Tensor& x, Modality m, const std::vector<double>& rgb_mean,
                       const std::vector<double>& rgb_std, const std::vector<double>& mod_mean,
                       const std::vector<double>& mod_std);

// paired_modality as a compose() step (data/transforms.h).
struct PairedModality {
  Modality modality;
  std::vector<double> rgb_mean, rgb_std, mod_mean, mod_std;
  Tensor operator()(const Tensor& x, Generator&) const {
    return paired_modality(x, modality, rgb_mean, rgb_std, mod_mean, mod_std);
  }
};

}  // namespace retort::data
