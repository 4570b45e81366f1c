// Optimiser base: owns parameter groups and per-parameter state; subclasses write the update.
//
// Parameters are leaf tensors (float32 or float64, CPU, contiguous) whose .grad() is filled by
// backward. step() updates every parameter with a defined grad in place, under NoGradGuard, with
// plain loops over the packed data: no graph, no allocation per step (state buffers are allocated
// once, the first time a parameter gets a gradient). A parameter whose grad is undefined is
// skipped entirely: its value, its state and its own step count are left as they are (as in
// PyTorch, where Adam's bias correction counts the steps each parameter really took).
//
// Parameter groups carry their own lr and weight_decay (unset: the optimiser's defaults, filled in
// by the constructor), so e.g. biases can be trained without weight decay:
//   SGD opt({{.params = weights}, {.params = biases, .weight_decay = 0.0}}, {.lr = 0.1});
// LR schedulers (optim/lr_scheduler.h) write group.lr between steps.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace retort::optim {

struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<double> lr;            // unset → the optimiser's default lr
  std::optional<double> weight_decay;  // unset → the optimiser's default weight_decay
  // The lr the first LR scheduler found (PyTorch's "initial_lr"); schedules are closed forms of it.
  std::optional<double> initial_lr;
};

// What an optimiser remembers about one parameter. `step` counts the updates this parameter got;
// `buffers` are the optimiser's tensors of the parameter's shape and dtype (SGD: momentum; Adam:
// exp_avg, exp_avg_sq, max_exp_avg_sq), empty until the first update.
struct ParamState {
  std::int64_t step = 0;
  std::vector<Tensor> buffers;
};

// Everything an optimiser carries from step to step, for training checkpoints: tensors named
// "state.<g>.<i>.<j>" (buffer j of parameter i of group g: SGD's momentum, Adam's moments) and
// text values: "name", "steps", "groups", "group.<g>.params", "group.<g>.lr" (and
// weight_decay / initial_lr when set; doubles as C99 hex floats, exact), "state.<g>.<i>.step",
// "state.<g>.<i>.buffers". The parameters themselves are the model's and are saved with it.
struct OptimizerState {
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, std::string> values;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient.
  void step();
  // Clears the gradients: zeroes them in place (PyTorch 1.13's default), or drops them when
  // set_to_none, so the next backward allocates fresh ones.
  void zero_grad(bool set_to_none = false);

  // The lr of group 0; set_lr sets every group's lr.
  double lr() const;
  void set_lr(double lr);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  // Adds a group (unset lr / weight_decay take the defaults); checked like the constructor's.
  void add_param_group(ParamGroup group);

  // Calls of step() so far.
  std::int64_t step_count() const { return steps_; }
  // State of parameter i of group g, or of the given parameter (error when it is not one of ours).
  const ParamState& state(std::size_t group, std::size_t index) const;
  const ParamState& state(const Tensor& param) const;

  const std::string& name() const { return name_; }

  // The state for a checkpoint (see OptimizerState), and back. load_state_dict checks everything
  // first — optimiser name, group and parameter counts, each buffer's shape and dtype against its
  // parameter, every value present and well formed — and changes nothing when a check fails; the
  // error names the first mismatch. Buffers are copied to their parameter's device.
  OptimizerState state_dict() const;
  void load_state_dict(const OptimizerState& state);

 protected:
  // name is the op name used in errors ("SGD", "Adam", ...).
  Optimizer(std::string name, std::vector<ParamGroup> groups, double default_lr,
            double default_weight_decay);

  // Updates one parameter in place; p and g are contiguous, same shape and dtype, g defined.
  // state.step has already been incremented for this update (it is 1 on the first update), and
  // state.buffers is empty on the first update.
  virtual void update(const ParamGroup& group, const Tensor& p, const Tensor& g, ParamState& state) = 0;

 private:
  void check_group(ParamGroup& group);

  std::string name_;
  double default_lr_;
  double default_weight_decay_;
  std::vector<ParamGroup> groups_;
  std::vector<std::vector<ParamState>> state_;  // parallel to groups_[g].params
  std::int64_t steps_ = 0;
};

// The group list of a single group holding params (all at the defaults).
std::vector<ParamGroup> single_group(std::vector<Tensor> params);

}  // namespace retort::optim
