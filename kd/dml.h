// Deep mutual learning (Zhang, Xiang, Hospedales & Lu 2018, "Deep Mutual Learning"), namespace
// retort::kd: K ≥ 2 students trained together from scratch, each imitating the others' current
// predictions; there is no pre-trained teacher.
//
// Logits z_i [N, C] of student i (all K students see the same batch x, labels y int64 [N]):
//   loss_i = CE(z_i, y) + w · 1/(K−1) · Σ_{j≠i} T²·KL(softmax(z_j/T).detach() ‖ softmax(z_i/T))
// with KL summed over C and averaged over N (batchmean; kd_loss of kd/response.h with the peer as
// the "teacher"). Defaults w = 1, T = 1: the paper's loss (for K networks it averages the K−1
// KL terms and uses no temperature). The peers are detached, so loss_i's gradient reaches
// student i only.
//
// Update order: the paper's Algorithm 1 updates the students one after the other, re-running the
// forward of the peers between updates. MutualLearning::step does the simultaneous variant used
// by most implementations: one forward of every student, then every loss_i backward (as one
// backward of Σ_i loss_i, exact because the peers are detached), then every optimiser steps.
//
//   std::vector<std::shared_ptr<nn::Module>> nets{net_a, net_b};
//   std::vector<std::shared_ptr<optim::Optimizer>> opts{opt_a, opt_b};
//   kd::MutualLearning dml(nets, opts);              // w = 1, T = 1
//   kd::MutualStepResult r = dml.step(x, y);         // r.values[i] = loss_i
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "nn/module.h"
#include "optim/optimizer.h"
#include "tensor/tensor.h"

namespace retort::kd {

struct MutualOptions {
  double T = 1.0;  // softmax temperature (T² keeps the gradient scale independent of T)
  double w = 1.0;  // weight of the mimicry term
};

// One student's loss and its two parts (scalar graph tensors).
struct MutualLoss {
  Tensor total;  // ce + w·kl
  Tensor ce;     // CE(z_i, y), mean over N
  Tensor kl;     // 1/(K−1)·Σ_{j≠i} T²·KL(p_j ‖ p_i), batchmean
};

// loss_i of the header comment for logits {z_0 .. z_{K−1}}, each [N, C] (same shape and dtype),
// K ≥ 2, labels y int64 [N]. Throws naming both shapes when the logits differ.
MutualLoss mutual_loss(const std::vector<Tensor>& logits, std::size_t i, const Tensor& y,
                       const MutualOptions& options = {});

struct MutualStepResult {
  std::vector<Tensor> logits;      // z_i [N, C] (graph released after step's backward)
  std::vector<MutualLoss> losses;  // per student
  std::vector<double> values;      // loss_i
  std::vector<double> ce_values;   // CE part of loss_i
  std::vector<double> kl_values;   // KL part of loss_i (before the weight w)
};

class MutualLearning {
 public:
  // students.size() ≥ 2 and optimizers.size() == students.size(); optimizer i holds the
  // parameters of student i.
  MutualLearning(std::vector<std::shared_ptr<nn::Module>> students,
                 std::vector<std::shared_ptr<optim::Optimizer>> optimizers,
                 const MutualOptions& options = {});

  // The forwards (with graph) and every loss_i; no backward, no update.
  MutualStepResult losses(const Tensor& x, const Tensor& y);
  // zero_grad every optimiser; losses(x, y); backward; every optimiser steps.
  MutualStepResult step(const Tensor& x, const Tensor& y);

  std::size_t size() const { return students_.size(); }
  nn::Module& student(std::size_t i) { return *students_.at(i); }
  const MutualOptions& options() const { return options_; }

 private:
  std::vector<std::shared_ptr<nn::Module>> students_;
  std::vector<std::shared_ptr<optim::Optimizer>> optimizers_;
  MutualOptions options_;
};

}  // namespace retort::kd
