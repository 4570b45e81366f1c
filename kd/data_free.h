// Data-free distillation (namespace retort::kd): making training inputs from a trained teacher
// alone, so a student can be distilled without any training image. Two families:
//
// Model inversion, DeepInversion (Yin et al. 2020, "Dreaming to Distill"; reference NVlabs'
// DeepInversion, cifar10/deepinversion_cifar10.py). A batch of images x [B, 3, H, W] is the only
// thing optimised (Adam); the teacher (eval mode, frozen) sees a randomly jittered x̃ each step
// (roll by up to `jitter` pixels in H and W, horizontal flip with probability 1/2) and
//   L(x) = CE(teacher(x̃), y)                                        targets y chosen by the caller
//        + r_feature · Σ_l ( ‖μ_l(x̃) − running_mean_l‖₂ + ‖σ²_l(x̃) − running_var_l‖₂ )
//        + tv · TV(x̃) + l2 · ‖x‖₂
// where l runs over the teacher's BatchNorm2d layers, μ_l, σ²_l [C_l] are the mean and biased
// variance over N, H, W of that layer's input (read through a tap, so the model is unchanged),
// and TV(x) = ‖x[…, :, :−1] − x[…, :, 1:]‖₂ + ‖x[…, :−1, :] − x[…, 1:, :]‖₂
//           + ‖x[…, 1:, :−1] − x[…, :−1, 1:]‖₂ + ‖x[…, :−1, :−1] − x[…, 1:, 1:]‖₂ (Frobenius norms of the
// horizontal, vertical and both diagonal differences, as the reference's loss_var).
//
// Generator based, DAFL (Chen et al. 2019, "Data-Free Learning of Student Networks"; reference
// huawei-noah's DAFL-train.py). A generator G (kd/dafl_generator.h) maps z ~ N(0, I) to images;
// with the teacher's logits t [B, K] = teacher(G(z)) and its pooled features f [B, D] (the input
// of its classifier):
//   L_oh = CE(t, argmax_k t)                 one-hot: each image should look like one class
//   L_a  = −mean |f|                          activation: strongly activated features
//   L_ie = Σ_k p̄_k · log10 p̄_k,  p̄ = mean_b softmax(t)   information entropy: balanced classes
//   L_G  = oh · L_oh + a · L_a + ie · L_ie
// (log10 as the reference writes it.) The student learns from the teacher on the same images.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "nn/batchnorm.h"
#include "nn/hooks.h"
#include "nn/module.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace retort::kd {

// Taps the input of every BatchNorm2d (with running statistics) of `net` at construction. After a
// forward of net, loss() = Σ_l ‖μ_l − running_mean_l‖₂ + ‖σ²_l − running_var_l‖₂ (see above), a
// graph node through the tapped inputs. Throws when net has no such layer, or (loss) when no
// forward reached a layer since the taps were made. Keep it alive only while needed: the taps
// hold the latest forward's activations.
class BnStatisticsLoss {
 public:
  explicit BnStatisticsLoss(nn::Module& net);
  Tensor loss() const;
  std::size_t layers() const { return taps_.size(); }

 private:
  std::vector<nn::FeatureTap> taps_;
  std::vector<const nn::BatchNormBase*> bns_;
};

// DeepInversion's image prior: x [B, C, H, W] with H, W ≥ 2 → scalar (the formula above).
Tensor total_variation(const Tensor& x);

// Shifts x [B, C, H, W] by (dy, dx) pixels cyclically (torch.roll(x, (dy, dx), (2, 3))) and,
// with flip, mirrors it along W (torch.flip(x, (3,))); differentiable.
Tensor roll_flip(const Tensor& x, std::int64_t dy, std::int64_t dx, bool flip);

struct DeepInversionOptions {
  int iterations = 2000;      // Adam steps per batch (the reference's iters_mi)
  double lr = 0.1;            // Adam lr on the images (di_lr), betas 0.9 / 0.999
  double r_feature = 10.0;    // BN statistics weight (r_feature_weight)
  double tv = 1e-3;           // TV weight (di_var_scale of the README's better setting)
  double l2 = 0.0;            // ‖x‖₂ weight (di_l2_scale)
  std::int64_t jitter = 2;    // random roll of ±jitter pixels per step (lim_0 = lim_1 = 2)
  bool flip = true;           // random horizontal flip per step
};

struct DeepInversionStep {
  int iteration;                      // 1-based
  double total, ce, bn, tv, l2;       // the terms before weighting, and the weighted total
  double accuracy;                    // % of the jittered images x̃ the teacher gives their target class
};

// Synthesises one batch for the targets y [B] (int64 class indices) from teacher (put in eval
// mode and frozen: requires_grad_(false)). Images start as N(0, 1) draws
// from gen, in the teacher's input space (normalised), shape [B, C, H, W] = [B, image_shape...].
// on_step (optional) sees every step. Returns the final images, detached.
Tensor deep_inversion(nn::Module& teacher, const Tensor& targets, const std::vector<std::int64_t>& image_shape,
                      const DeepInversionOptions& options, Generator& gen,
                      const std::function<void(const DeepInversionStep&)>& on_step = {});

struct DaflOptions {
  double oh = 1.0;   // one-hot weight   (DAFL-train.py defaults)
  double a = 0.1;    // activation weight
  double ie = 5.0;   // information-entropy weight
};
struct DaflLoss {
  Tensor total, one_hot, activation, info_entropy;  // scalars; total = oh·L_oh + a·L_a + ie·L_ie
};
// teacher_logits [B, K], teacher_features [B, D] (or any [B, ...]) → DAFL's generator loss.
DaflLoss dafl_generator_loss(const Tensor& teacher_logits, const Tensor& teacher_features,
                             const DaflOptions& options = {});

}  // namespace retort::kd
