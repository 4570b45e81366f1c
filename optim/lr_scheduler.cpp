// LR schedules (see lr_scheduler.h). PyTorch steps most schedules recursively (each lr derived
// from the previous one); Retort always evaluates the closed form, which is the same sequence up
// to rounding and does not drift, and lets LinearWarmup hand over to any schedule by shifting
// its epoch.
#include "optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "tensor/error.h"

namespace retort::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(&optimizer) {
  for (auto& g : optimizer.param_groups()) {
    if (!g.initial_lr) g.initial_lr = *g.lr;
    base_lrs_.push_back(*g.initial_lr);
  }
}

void LRScheduler::apply() {
  auto& groups = optimizer_->param_groups();
  RETORT_CHECK(groups.size() == base_lrs_.size(), "LRScheduler: the optimiser has ", groups.size(),
               " parameter groups but had ", base_lrs_.size(), " when the scheduler was made");
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].lr = lr_at(base_lrs_[i], epoch_);
}

void LRScheduler::step() {
  ++epoch_;
  apply();
}

std::vector<double> LRScheduler::last_lr() const {
  std::vector<double> out;
  for (const auto& g : optimizer_->param_groups()) out.push_back(*g.lr);
  return out;
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  RETORT_CHECK(step_size >= 1, "StepLR: step_size must be >= 1, got ", step_size);
  apply();
}

double StepLR::lr_at(double base_lr, std::int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  // Sorted so lr_at can count the milestones passed with one binary search.
  std::sort(milestones_.begin(), milestones_.end());
  apply();
}

double MultiStepLR::lr_at(double base_lr, std::int64_t epoch) const {
  auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin();
  return base_lr * std::pow(gamma_, static_cast<double>(passed));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t t_max, double eta_min)
    : LRScheduler(optimizer), t_max_(t_max), eta_min_(eta_min) {
  RETORT_CHECK(t_max >= 1, "CosineAnnealingLR: T_max must be >= 1, got ", t_max);
  apply();
}

double CosineAnnealingLR::lr_at(double base_lr, std::int64_t epoch) const {
  const double c = std::cos(std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max_));
  return eta_min_ + (base_lr - eta_min_) * (1.0 + c) / 2.0;
}

LinearWarmup::LinearWarmup(Optimizer& optimizer, double start_factor, std::int64_t warmup_steps,
                           std::unique_ptr<LRScheduler> then)
    : LRScheduler(optimizer), start_factor_(start_factor), warmup_steps_(warmup_steps), then_(std::move(then)) {
  RETORT_CHECK(start_factor > 0 && start_factor <= 1, "LinearWarmup: start_factor must be in (0, 1], got ",
               start_factor);
  RETORT_CHECK(warmup_steps >= 0, "LinearWarmup: warmup_steps must be >= 0, got ", warmup_steps);
  RETORT_CHECK(!then_ || &then_->optimizer() == &optimizer,
               "LinearWarmup: the schedule to hand over to drives a different optimiser");
  apply();
}

double LinearWarmup::lr_at(double base_lr, std::int64_t epoch) const {
  if (epoch < warmup_steps_) {
    const double frac = static_cast<double>(epoch) / static_cast<double>(warmup_steps_);
    return base_lr * (start_factor_ + (1.0 - start_factor_) * frac);
  }
  return then_ ? then_->lr_at(base_lr, epoch - warmup_steps_) : base_lr;
}

}  // namespace retort::optim
