// Learning-rate schedules with the closed forms of PyTorch 1.13's torch.optim.lr_scheduler.
//
// A scheduler drives the lr of every group of one optimiser (which must outlive it). On construction each group's
// initial_lr is recorded (the first scheduler attached sets it; later ones reuse it, as PyTorch
// does) and the lr is set to the schedule's value at epoch 0; each step() advances the epoch by
// one and sets lr = lr_at(initial_lr, epoch). Call it after optimizer.step(), once per epoch or
// per iteration, whichever the schedule is counted in. With base lr η and epoch e:
//   StepLR(step_size, γ):           η·γ^⌊e/step_size⌋
//   MultiStepLR(milestones, γ):     η·γ^(number of milestones ≤ e)
//   CosineAnnealingLR(T_max, ηmin): ηmin + (η − ηmin)·(1 + cos(π·e/T_max))/2   (periodic past T_max)
//   LinearWarmup(f, N, then):       η·(f + (1 − f)·e/N) for e < N, then `then` at epoch e − N
//                                   (η itself when there is no `then`) — PyTorch's
//                                   LinearLR(start_factor=f, total_iters=N), or with `then`,
//                                   SequentialLR([LinearLR, then], milestones=[N]).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "optim/optimizer.h"

namespace retort::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // The schedule: the lr after `epoch` steps of a group whose initial lr is base_lr.
  virtual double lr_at(double base_lr, std::int64_t epoch) const = 0;

  // Advances one epoch and writes every group's lr.
  void step();
  // Steps taken so far (PyTorch's last_epoch; 0 right after construction).
  std::int64_t last_epoch() const { return epoch_; }
  // The lr of each group as last set by this scheduler.
  std::vector<double> last_lr() const;
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  const Optimizer& optimizer() const { return *optimizer_; }

 protected:
  // Records the groups' initial lrs; the subclass constructor then calls apply() (a virtual
  // lr_at cannot be called from here).
  explicit LRScheduler(Optimizer& optimizer);
  // Writes lr_at(base, epoch_) into every group.
  void apply();

 private:
  Optimizer* optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t epoch_ = 0;
};

class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

class MultiStepLR : public LRScheduler {
 public:
  // milestones: epochs at which the lr is multiplied by gamma (any order; a repeated milestone
  // multiplies by gamma once per occurrence, as in PyTorch).
  MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma = 0.1);
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  std::vector<std::int64_t> milestones_;
  double gamma_;
};

class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t t_max, double eta_min = 0.0);
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  std::int64_t t_max_;
  double eta_min_;
};

class LinearWarmup : public LRScheduler {
 public:
  // `then` (optional) must have been made on the same optimiser; it is only used for its lr_at,
  // this scheduler owns it and does the stepping.
  LinearWarmup(Optimizer& optimizer, double start_factor, std::int64_t warmup_steps,
               std::unique_ptr<LRScheduler> then = nullptr);
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  double start_factor_;
  std::int64_t warmup_steps_;
  std::unique_ptr<LRScheduler> then_;
};

}  // namespace retort::optim
