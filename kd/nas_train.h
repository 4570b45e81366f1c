// The distillation side of the architecture search (namespace retort::kd::nas): a resumable KD
// training of one student on an in-memory split, the scorer that successive halving calls
// (kd/nas.h), and the helpers both need.
//
// KdTraining: a kd::Distiller with two terms, as RepDistiller's KD recipe (kd_zoo --loss kd)
//   total = kd_weight·kd_loss(s, t, {.T}) + ce_weight·cross_entropy(s, y)   (defaults 0.9, 0.1, T 4)
// and Adam(lr) over the student's parameters. Batches: each epoch is a permutation of 0..N−1 drawn
// from the training's own Generator(seed); consecutive runs of `batch` indices form its
// ⌈N/batch⌉ steps (the last one smaller). Teacher logits come from a precomputed [N, K] table
// (teacher_logits(); loaded into the Distiller's teacher-output cache, exact since there is no
// augmentation) or, when none is given, from the teacher forward, cached on first sight.
// train(k) runs k more steps; the global generator (Dropout's masks) is swapped for the
// training's own stream while it runs and restored afterwards, so a training's steps are the same
// whatever other trainings ran in between: train(a) then train(b) equals train(a + b).
// The images stay on the host; each batch goes to the student's device.
//
// KdScorer: the Scorer of successive_halving. On a candidate's first call it seeds the global
// generator with options.seed, builds ConvNet(spec) for the space's geometry (so every candidate
// starts from the same seed) and a KdTraining; each call trains it to `budget` steps in total and
// returns its top-1 accuracy (%) on the validation images — a held-out part of the training
// split, never the test split.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kd/distiller.h"
#include "kd/nas.h"
#include "nn/convnet.h"
#include "optim/adam.h"
#include "tensor/random.h"

namespace retort::kd::nas {

struct KdTrainOptions {
  double T = 4.0;          // kd_loss temperature
  double kd_weight = 0.9;  // RepDistiller's -b 0.9 with -a 0.1 for CE (its KD command line)
  double ce_weight = 0.1;
  std::int64_t batch = 128;
  double lr = 1e-3;        // Adam
  std::uint64_t seed = 42;  // batch order and dropout stream (KdScorer: also the initial weights)
};

// The teacher's logits [N, K] (float32, host) for images [N, C, H, W], eval mode, no graph,
// in batches of `batch`.
Tensor teacher_logits(nn::Module& teacher, const Tensor& images, std::int64_t batch = 128);
// Top-1 accuracy in percent of net on images [N, ...] / int64 labels [N] (eval mode, no graph,
// batches of `batch`); the net's training flag is restored.
double accuracy(nn::Module& net, const Tensor& images, const Tensor& labels,
                std::int64_t batch = 128);

class KdTraining {
 public:
  // images [N, C, H, W] float32 and labels int64 [N], host; logits [N, K] or undefined.
  KdTraining(std::shared_ptr<nn::Module> student, std::shared_ptr<nn::Module> teacher,
             Tensor images, Tensor labels, const Tensor& logits, const KdTrainOptions& options);
  KdTraining(const KdTraining&) = delete;
  KdTraining& operator=(const KdTraining&) = delete;

  // Called after each step with (steps done so far, batch size, total loss, correct predictions).
  using OnStep = std::function<void(std::int64_t step, std::int64_t n, double loss,
                                    std::int64_t correct)>;
  // `steps` more optimiser steps (≥ 0); returns the mean total loss over them (0 for none).
  double train(std::int64_t steps, const OnStep& on_step = {});
  std::int64_t steps_done() const { return step_; }
  std::int64_t steps_per_epoch() const;
  nn::Module& student() { return *student_; }

 private:
  std::shared_ptr<nn::Module> student_;
  Tensor images_, labels_;
  KdTrainOptions options_;
  std::unique_ptr<Distiller> distiller_;
  std::unique_ptr<optim::Adam> adam_;
  Generator order_;
  std::string dropout_state_;  // the global generator's state between train() calls
  std::vector<std::int64_t> perm_;
  std::int64_t step_ = 0;
};

class KdScorer {
 public:
  // train_* is the split the candidates train on, val_* the held-out split they are scored on;
  // host tensors as KdTraining's. The teacher's logits of train_images are computed here once,
  // unless given (train_logits [N, K], e.g. rows of a table the caller has anyway).
  // Candidates' nets are built on `device`.
  KdScorer(std::shared_ptr<nn::Module> teacher, Tensor train_images, Tensor train_labels,
           Tensor val_images, Tensor val_labels, const SearchSpace& space,
           const KdTrainOptions& options, Device device = kCPU, const Tensor& train_logits = {});

  // Trains candidate `index` to `budget` steps in total; returns validation accuracy (%).
  double operator()(std::size_t index, const nn::ConvNetSpec& spec, std::int64_t budget);
  // Candidate index's training (throws when it was never scored).
  KdTraining& training(std::size_t index);
  // Seconds spent training and evaluating, over all calls.
  double seconds() const { return seconds_; }
  // Called after each step of every candidate's training (for a progress line).
  KdTraining::OnStep on_step;

 private:
  std::shared_ptr<nn::Module> teacher_;
  Tensor train_x_, train_y_, val_x_, val_y_, logits_;
  SearchSpace space_;
  KdTrainOptions options_;
  Device device_;
  std::vector<std::unique_ptr<KdTraining>> runs_;
  std::vector<nn::ConvNetSpec> specs_;
  double seconds_ = 0;
};

}  // namespace retort::kd::nas
