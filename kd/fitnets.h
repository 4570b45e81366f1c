// Two-stage FitNets (Romero et al. 2015, "FitNets: Hints for Thin Deep Nets"), namespace
// retort::kd.
//
// Stage 1 (FitNetsStage1): only the student's layers up to the guided layer W_guided, plus a
// regressor r, are trained, to minimise the hint loss
//   L_HT = mse(r(f_s), f_t)       f_s = output of the guided layer, f_t = output of the teacher's
//                                 hint layer [N, ...]; mean over all elements (hint_loss,
//                                 kd/feature.h; the paper's ½‖·‖² differs by a constant factor)
// Stage 2 is ordinary KD of the whole student from the stage-1 initialisation: a Distiller with
// e.g. kd_loss + cross_entropy terms (kd/distiller.h); the regressor is dropped.
//
// Which parameters stage 1 trains. By default, the student parameters that come at or before
// the guided layer in forward order: one forward of `example` with a hook on every module
// records the order in which modules finish; the parameters owned by the guided module, its
// descendants and every module that finished before it are selected (for a Sequential-style
// model: the layers up to and including the tap). A module's parameters are attributed to the
// module that registers them, so a parent's own parameters are selected only when that parent
// finishes before the guided layer. Or pass the parameter list explicitly.
//
// Each stage-1 forward of the student (and of the teacher) stops at the guided (hint) layer:
// the later layers do not run at all, so their parameters, gradients and buffers (BatchNorm
// running statistics) stay bit-identical. The teacher is frozen (requires_grad false, eval).
//
//   kd::FitNetsStage1 s1(student, "features.2", teacher, "features.4", x_example);
//   optim::SGD opt(s1.parameters(), {.lr = 0.05});     // selected student params + regressor
//   for (...) s1.step(opt, x);                         // returns L_HT
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kd/feature.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "tensor/tensor.h"

namespace retort::kd {

class FitNetsStage1 {
 public:
  // Selects the parameters in forward order (see the header) and builds the regressor of `kind`
  // from the guided and hint feature shapes of one no-grad eval-mode forward of `example`.
  FitNetsStage1(std::shared_ptr<nn::Module> student, std::string guided_path,
                std::shared_ptr<nn::Module> teacher, std::string hint_path, const Tensor& example,
                HintKind kind = HintKind::Conv1x1);
  // The same with an explicit list of the student parameters to train (each must be one of the
  // student's parameters).
  FitNetsStage1(std::shared_ptr<nn::Module> student, std::string guided_path,
                std::shared_ptr<nn::Module> teacher, std::string hint_path, const Tensor& example,
                std::vector<Tensor> student_parameters, HintKind kind = HintKind::Conv1x1);

  // L_HT for a batch x [N, ...] (graph through the selected parameters and the regressor).
  Tensor loss(const Tensor& x);
  // optimizer.zero_grad(); L_HT.backward(); optimizer.step(); returns L_HT's value.
  double step(optim::Optimizer& optimizer, const Tensor& x);

  // Selected student parameters followed by the regressor's: what the optimiser should hold.
  std::vector<Tensor> parameters() const;
  const std::vector<Tensor>& student_parameters() const { return selected_; }
  const std::vector<std::string>& student_parameter_names() const { return selected_names_; }
  HintRegressor& regressor() { return *regressor_; }
  const std::string& guided_path() const { return guided_path_; }
  const std::string& hint_path() const { return hint_path_; }

 private:
  // The shared part of both constructors: members, null checks, teacher frozen.
  FitNetsStage1(std::shared_ptr<nn::Module> student, std::string guided_path,
                std::shared_ptr<nn::Module> teacher, std::string hint_path);
  void select_in_forward_order(const Tensor& example);
  void build_regressor(const Tensor& example, HintKind kind);
  // Forward of m that stops right after the module at path returned; that module's output.
  static Tensor forward_until(nn::Module& m, const std::string& path, const Tensor& x);

  std::shared_ptr<nn::Module> student_, teacher_;
  std::string guided_path_, hint_path_;
  std::vector<Tensor> selected_;
  std::vector<std::string> selected_names_;
  std::shared_ptr<HintRegressor> regressor_;
};

}  // namespace retort::kd
