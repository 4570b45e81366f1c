// Teacher-assistant knowledge distillation (Mirzadeh et al. 2020, "Improved Knowledge
// Distillation via Teacher Assistant", TAKD), namespace retort::kd.
//
// A chain M_0 → M_1 → … → M_L: M_0 a trained teacher, M_1 … M_{L−1} teacher assistants (sized
// between teacher and student), M_L the student. Stage k = 1 … L builds M_k with its factory and
// trains it as an ordinary Distiller run (kd/distiller.h) with the trained M_{k−1} as its frozen
// teacher (eval mode, requires_grad false) and the two terms, for logits z_k [N, K], y int64 [N]:
//   ℓ = (1 − λ)·CE(z_k, y) + λ·T²·KL(softmax(z_{k−1}/T) ‖ softmax(z_k/T))   (kd_loss, response.h)
// With L = 1 the chain is plain KD from M_0.
//
// Reference: the authors' TAKD code (train.py, TrainManager.calculate_loss) uses this loss with
// torch's KLDivLoss() at its default reduction 'mean', i.e. the KL summed over K and averaged over
// N·K elements; it searches T ∈ {1, 2, 5, 10, 15, 20} and λ ∈ [0.05, 1] per experiment (NNI), so it
// has no single default. Here the KL is averaged over N (batchmean, as kd_loss and RepDistiller)
// unless reduction = Mean is chosen, which gives the reference's form exactly; the defaults T = 2,
// λ = 0.25 are the seed experiment's (examples/cifar10_kd: 0.25·T²·KL + 0.75·CE at T = 2).
//
// Data, optimiser and evaluation are the caller's (kd/ reads no data sets): for stage k and its
// 0-based epoch e, hooks.epoch(k, e, train) calls train(batch) once per batch, each batch
// {x [N, ...], y int64 [N], sample indices (may be empty)}; train runs one
// Distiller::train_step with the stage's optimiser (hooks.optimizer(M_k, k), built once per
// stage). Before each epoch M_k is put in train mode; after it, hooks.evaluate(M_k) gives the
// epoch's score (e.g. test accuracy), and the stage's score is that of its last epoch. The
// factory decides the model's initial weights (seed the generator inside it for repeatable
// runs) and its device.
//
// Budget. Every stage runs its own `epochs`; run_assistant_chain adds nothing. Comparing chains
// of different length "on the same budget" is the caller's choice of stage epochs (the example
// kd_assistant gives every stage, student included, the same epochs, so the student's own
// schedule is identical in every chain, and reports each chain's total steps and time).
//
//   std::vector<kd::ChainStage> stages{{"assistant", make_assistant, 10}, {"student", make_student, 10}};
//   auto results = kd::run_assistant_chain(teacher, stages, hooks);   // results[k].score
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kd/distiller.h"
#include "kd/response.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "tensor/tensor.h"

namespace retort::kd {

struct ChainOptions {
  double T = 2.0;       // temperature, > 0
  double lambda = 0.25; // weight of the KD term, in [0, 1]; CE gets 1 − λ
  Reduction reduction = Reduction::BatchMean;  // of the KL; Mean = the TAKD code's torch 'mean'
  // The Distiller's teacher-output cache (by sample index): exact only when each sample reaches
  // the teacher un-augmented (see distiller.h); the batches must carry their indices.
  bool cache_teacher = false;
};

// The Distiller of one stage: student ← teacher with the terms "ce" (weight 1 − λ) and "kd"
// (weight λ) of the header comment, the teacher cache as options say.
Distiller make_assistant_distiller(std::shared_ptr<nn::Module> student,
                                   std::shared_ptr<nn::Module> teacher,
                                   const ChainOptions& options = {});

struct ChainStage {
  std::string name;
  std::function<std::shared_ptr<nn::Module>()> make;  // a fresh, untrained M_k
  std::int64_t epochs = 1;                            // ≥ 1
};

struct ChainBatch {
  Tensor x, y;                          // [N, ...], int64 [N]
  std::vector<std::int64_t> indices;    // sample ids for the teacher cache, or empty
};

// What one training step reports (for a progress display).
struct ChainStep {
  std::size_t stage = 0;
  std::int64_t epoch = 0, batch = 0;  // 0-based within the stage / epoch
  const ChainBatch* data = nullptr;
  const StepResult* result = nullptr;
};

struct ChainHooks {
  using TrainFn = std::function<void(const ChainBatch&)>;
  std::function<void(std::size_t stage, std::int64_t epoch, const TrainFn& train)> epoch;  // required
  std::function<std::unique_ptr<optim::Optimizer>(nn::Module& model, std::size_t stage)> optimizer;  // required
  std::function<double(nn::Module& model)> evaluate;                                        // required
  std::function<void(const ChainStep&)> on_step;                                    // optional
  std::function<void(std::size_t stage, std::int64_t epoch, double score)> on_epoch;  // optional
};

struct StageResult {
  std::string name;
  std::shared_ptr<nn::Module> model;  // trained M_k (frozen when a later stage used it)
  std::int64_t params = 0;
  std::vector<double> epoch_scores;   // hooks.evaluate after each epoch
  double score = 0;                   // the last epoch's
  std::int64_t steps = 0;             // optimiser steps of the stage
  double seconds = 0;                 // training time, evaluation excluded
};

// Trains stages[0 … L−1] in order, stage 0 from `teacher` (already trained; frozen by its
// Distiller), stage k from stage k−1's model. Throws (naming the stage) on no stages, a null
// teacher, factory or model, epochs < 1, a missing hook, or a λ outside [0, 1] / T ≤ 0.
std::vector<StageResult> run_assistant_chain(std::shared_ptr<nn::Module> teacher,
                                             const std::vector<ChainStage>& stages,
                                             const ChainHooks& hooks,
                                             const ChainOptions& options = {});

}  // namespace retort::kd
