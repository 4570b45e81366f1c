// The CIFAR-10 distillation harness shared by examples/cifar10_kd, kd_zoo and kd_studies
// (namespace retort::examples): data loading and ImageNet normalisation, evaluation, a
// teacher-output cache, and one training loop that trains a network with any weighted sum of
// kd::Distiller-style terms (kd::Term: name, weight, fn(kd::Context), optional schedule).
// Tables, CSV files and gnuplot plots are in common/report.h.
//
// A training step on a batch x [B, 3, 32, 32], y [B] (sample indices i [B]):
//   1. teacher side (only when a teacher is given): logits [B, K] and the outputs of the
//      objective's teacher taps, either rows i of a TeacherCache that holds them all (exact
//      only without augmentation: the cache saw each image once, un-augmented) or a forward of
//      the teacher in eval mode under NoGradGuard;
//   2. the student's forward (graph recorded), its taps read into the Context;
//   3. Objective::on_context(Context) when set, then
//      total = Σ_j weight_j·schedule_j(step)·ℓ_j(Context), step counting batches from 0;
//   4. backward, one optimiser step over the student's and the objective's extra modules'
//      parameters: Adam(lr) by default, or RepDistiller's SGD protocol (RunOptions::sgd).
// After each epoch the network is evaluated on the test set (eval mode, batches of
// kInferenceBatch).
//
// Devices: the data stay in host memory; CifarData::device (from --device) is where the nets,
// their extra modules and the teacher are moved by train_run, and where each batch is copied
// before the step. evaluate() and cache_teacher() feed a module on the module's own device.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/loader.h"
#include "kd/distiller.h"
#include "common/run_checkpoint.h"
#include "nn/module.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace retort::examples {

// CIFAR-10's train split: 5 files of 10,000 records (the test split is one such file).
inline constexpr std::int64_t kCifar10TrainSize = 50000;

struct DataOptions {
  std::string dir = "data-cache/cifar10";
  // The first N records of each split when N > 0; the whole split, exactly as the format promises
  // (50,000 / 10,000 records: a short or empty copy is an error), when N < 0. 0 is an error.
  std::int64_t train_limit = -1, test_limit = -1;
  Device device = kCPU;                            // where training runs (see the header comment)
  // "cifar10" (ImageNet mean/std, the seed experiment's normalisation) or "cifar100" (fine
  // labels, CIFAR-100's own mean/std as RepDistiller normalises).
  std::string dataset = "cifar10";
};

// --device's value ("cpu", "cuda", "cuda:N") as a Device; throws a message saying why a cuda
// device cannot be used (no CUDA in this build, or no GPU present).
Device parse_device(const std::string& spec);
// The device of m's first parameter (cpu for a module without parameters).
Device device_of(nn::Module& m);

struct CifarData {
  Tensor train_raw;     // [N, 3, 32, 32] float32 in [0, 1]
  Tensor train_norm;    // the same, ImageNet mean/std normalised
  Tensor train_labels;  // [N] int64
  Tensor test_images;   // [M, 3, 32, 32], normalised
  Tensor test_labels;   // [M] int64
  Device device = kCPU; // where the nets train; the tensors above stay on the host
  std::vector<double> mean, std;  // the normalisation used (and applied after augmentation)
};

// Both splits (data::load_cifar10 / load_cifar100, see their checks), normalised; throws when
// either is empty.
CifarData load_data(const DataOptions& options);
// The samples whose label is in `classes` (keep = true) or not in it (keep = false), both splits.
CifarData select_classes(const CifarData& d, const std::vector<std::int64_t>& classes, bool keep);

// A shuffled loader over the train split: normalised images, or (augment) the raw ones with a
// per-batch RandomCrop(32, padding 4) + RandomHFlip + Normalize on the loader's worker thread.
// (The programs refuse a batch larger than the train split when they read their flags; a split
// made smaller later, e.g. by holding classes out, gets one smaller batch per epoch.)
std::unique_ptr<data::DataLoader> make_loader(const CifarData& d, std::int64_t batch,
                                              std::uint64_t seed, bool augment);

// The batch of evaluate(), cache_teacher() and the studies' feature passes. Each image's result
// is independent of it up to float rounding (TeacherNet logits differ by at most 7e-8 between
// batches of 128 and 500). 128 is the fastest on the 2-core machine: TeacherNet
// inference ran at 2,570 img/s in batches of 64-256 and 2,390 in batches of 500 or 1,000, where
// oneDNN's Winograd kernel for the 128→64 convolution took 12% longer per image.
inline constexpr std::int64_t kInferenceBatch = 128;

// Top-1 accuracy in percent of net on images [M, ...] / labels [M] (eval mode, no_grad, batches
// of kInferenceBatch); net is back in train mode afterwards.
double evaluate(nn::Module& net, const Tensor& images, const Tensor& labels);

// The teacher's logits [N, K] and tapped features [N, ...] for every image, in dataset order
// (eval mode, no_grad, batches of kInferenceBatch).
struct TeacherCache {
  Tensor logits;
  std::map<std::string, Tensor> features;
  bool covers(const std::vector<std::string>& taps) const;
  std::int64_t bytes() const;
};
TeacherCache cache_teacher(nn::Module& teacher, const Tensor& images,
                           const std::vector<std::string>& taps = {});

// What a student is trained with: Σ weight·schedule·fn(Context) over the terms.
struct Objective {
  std::vector<kd::Term> terms;
  std::vector<std::string> student_taps, teacher_taps;  // module paths read into the Context
  std::vector<std::shared_ptr<nn::Module>> modules;    // trained with the student (regressors…)
  std::function<void(const data::Batch&)> on_batch;    // sees each batch first (CRD's indices)
  // Sees each batch's Context after the forwards, before the terms (adversarial distillation's
  // discriminator steps); whatever it trains has its own optimiser, not the student's.
  std::function<void(const kd::Context&)> on_context;
  std::vector<Generator*> generators;                  // the terms' own RNGs (checkpointed)
};
// The single term "ce": cross_entropy(student_logits, targets), weight 1.
Objective cross_entropy_objective();
// The seed's Hinton term "kd" (cifar10_kd's formula): with p = softmax(t/T) [B, K],
//   T²·Σ_{b,k} p·(log p − log_softmax(s/T)) / B, with 0·log 0 = 0 (F::kl_div, batchmean), so it
// equals kd::kd_loss (examples/seed_kl_check.cpp checks both, and an underflowing p).
kd::Term seed_kl_term(double T, double weight);

struct EpochRow {
  std::string run;
  int epoch;
  double loss, train_acc, test_acc, seconds, images_per_second;
};

struct RunResult {
  std::string name;
  std::int64_t params = 0;
  double last = 0, best = 0, seconds = 0, images_per_second = 0;
};

// RepDistiller's optimiser (train_teacher.py / train_student.py): SGD with momentum and weight
// decay; at 1-based epoch e the lr is lr·gamma^(number of milestones m with e > m), its
// adjust_learning_rate. Its preset: momentum 0.9, weight decay 5e-4, milestones 150/180/210 of
// 240 epochs, gamma 0.1 (scaled_milestones() shrinks them for a shorter run).
struct SgdProtocol {
  double momentum = 0.9, weight_decay = 5e-4, gamma = 0.1;
  std::vector<int> milestones{150, 180, 210};
};
// The preset's milestones at the same fractions of `epochs` (150/240, 180/240, 210/240), rounded
// down; for 240 epochs, the preset itself.
std::vector<int> scaled_milestones(int epochs);
// The lr of 1-based epoch e under p with base lr.
double sgd_epoch_lr(const SgdProtocol& p, double lr, int epoch);

struct RunOptions {
  std::string name;
  int epochs = 1;
  double lr = 1e-3;
  std::optional<SgdProtocol> sgd;        // unset: Adam(lr)
  nn::Module* teacher = nullptr;         // frozen, eval mode; required when a term reads it
  const TeacherCache* cache = nullptr;   // used when it covers the objective's teacher taps
  bool restart_epochs = false;           // loader.set_epoch(0) first: every run, same batches
  std::function<void(int epoch, double test_acc)> on_epoch;  // after each epoch's evaluation
  std::function<std::string()> epoch_note;  // appended to each epoch's line (before on_epoch)
  const CheckpointOptions* checkpoint = nullptr;  // resumable training (common/run_checkpoint.h)
};

// Trains net with the objective (see the header comment), printing a progress line per batch
// and one line per epoch, appending one EpochRow per epoch to rows. With options.checkpoint it
// checkpoints the run and, resuming, continues it (or returns it, when it had finished). A loss
// that is not finite stops the run with an error naming the epoch, the batch and each term's
// value, instead of training on it.
RunResult train_run(nn::Module& net, const Objective& objective, data::DataLoader& loader,
                    const CifarData& d, const RunOptions& options, std::vector<EpochRow>& rows);

// Loads a safetensors checkpoint into net and evaluates it: a RunResult with last = best =
// test accuracy and no training time. Prints "<name> loaded from <path>: test_acc X%".
RunResult load_and_evaluate(nn::Module& net, const std::string& name, const std::string& path,
                            const CifarData& d);

}  // namespace retort::examples
