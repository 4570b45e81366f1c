// Optimiser base (see optimizer.h): group bookkeeping, argument checks, and the step loop that
// hands each parameter with a gradient to the subclass's update().
#include "optim/optimizer.h"

#include "autograd/grad_mode.h"
#include "retort_config.h"
#include "tensor/error.h"

namespace retort::optim {

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, double default_lr,
                     double default_weight_decay)
    : name_(std::move(name)), default_lr_(default_lr), default_weight_decay_(default_weight_decay) {
  RETORT_CHECK(default_lr >= 0, name_, ": invalid learning rate ", default_lr, " (must be >= 0)");
  RETORT_CHECK(default_weight_decay >= 0, name_, ": invalid weight_decay ", default_weight_decay,
               " (must be >= 0)");
  RETORT_CHECK(!groups.empty(), name_, ": got an empty list of parameter groups");
  for (auto& g : groups) add_param_group(std::move(g));
}

void Optimizer::check_group(ParamGroup& group) {
  const std::size_t gi = groups_.size();
  RETORT_CHECK(!group.params.empty(), name_, ": parameter group ", gi, " has no parameters");
  if (!group.lr) group.lr = default_lr_;
  if (!group.weight_decay) group.weight_decay = default_weight_decay_;
  RETORT_CHECK(*group.lr >= 0, name_, ": parameter group ", gi, ": invalid learning rate ", *group.lr);
  RETORT_CHECK(*group.weight_decay >= 0, name_, ": parameter group ", gi, ": invalid weight_decay ",
               *group.weight_decay);
  for (std::size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    RETORT_CHECK(p.defined(), name_, ": parameter ", i, " of group ", gi, " is an undefined tensor");
    RETORT_CHECK(is_floating(p.dtype()), name_, ": parameter ", i, " of group ", gi, " ",
                 shape_str(p.sizes()), " is ", dtype_name(p.dtype()), ", expected float32 or float64");
    RETORT_CHECK(p.device().is_cpu() || (RETORT_WITH_CUDA && p.device().is_cuda()), name_,
                 ": parameter ", i, " of group ", gi, " ", shape_str(p.sizes()), " is on ",
                 p.device().str(), ", expected cpu", RETORT_WITH_CUDA ? " or cuda" : "");
    RETORT_CHECK(p.is_contiguous(), name_, ": parameter ", i, " of group ", gi, " ",
                 shape_str(p.sizes()), " is not contiguous");
    RETORT_CHECK(p.is_leaf(), name_, ": parameter ", i, " of group ", gi, " ", shape_str(p.sizes()),
                 " is not a leaf (an op computed it); optimise the leaf it came from");
    // A parameter in two groups would get two updates per step.
    for (std::size_t j = 0; j < i; ++j)
      RETORT_CHECK(!group.params[j].same(p), name_, ": parameter ", i, " of group ", gi,
                   " appears twice in the group");
    for (std::size_t g = 0; g < groups_.size(); ++g)
      for (const Tensor& q : groups_[g].params)
        RETORT_CHECK(!q.same(p), name_, ": parameter ", i, " of group ", gi,
                     " already appears in group ", g);
  }
}

void Optimizer::add_param_group(ParamGroup group) {
  check_group(group);
  state_.emplace_back(group.params.size());
  groups_.push_back(std::move(group));
}

void Optimizer::step() {
  NoGradGuard no_grad;
  ++steps_;
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    const ParamGroup& group = groups_[gi];
    for (std::size_t i = 0; i < group.params.size(); ++i) {
      const Tensor& p = group.params[i];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      RETORT_CHECK(g.sizes() == p.sizes() && g.dtype() == p.dtype() && g.device() == p.device(),
                   name_, ": parameter ", i, " of group ", gi, " is ", shape_str(p.sizes()), " ",
                   dtype_name(p.dtype()), " on ", p.device().str(), " but its grad is ",
                   shape_str(g.sizes()), " ", dtype_name(g.dtype()), " on ", g.device().str());
      // The engine produces packed gradients; a hand-set strided one is packed here (the only
      // allocation step() can make).
      if (!g.is_contiguous()) g = g.contiguous();
      ParamState& st = state_[gi][i];
      ++st.step;
      update(group, p, g, st);
    }
  }
}

void Optimizer::zero_grad(bool set_to_none) {
  for (auto& group : groups_)
    for (auto& p : group.params) {
      if (!p.grad().defined()) continue;
      if (set_to_none) p.set_grad(Tensor());
      else p.grad().fill_(0.0);
    }
}

double Optimizer::lr() const { return *groups_.front().lr; }

void Optimizer::set_lr(double lr) {
  RETORT_CHECK(lr >= 0, name_, ": invalid learning rate ", lr, " (must be >= 0)");
  for (auto& g : groups_) g.lr = lr;
}

const ParamState& Optimizer::state(std::size_t group, std::size_t index) const {
  RETORT_CHECK(group < groups_.size() && index < groups_[group].params.size(), name_,
               ": no parameter ", index, " in group ", group, " (", groups_.size(), " groups)");
  return state_[group][index];
}

const ParamState& Optimizer::state(const Tensor& param) const {
  for (std::size_t g = 0; g < groups_.size(); ++g)
    for (std::size_t i = 0; i < groups_[g].params.size(); ++i)
      if (groups_[g].params[i].same(param)) return state_[g][i];
  fail(name_, ": the tensor ", param.defined() ? shape_str(param.sizes()) : std::string("(undefined)"),
       " is not one of this optimiser's parameters");
}

std::vector<ParamGroup> single_group(std::vector<Tensor> params) {
  std::vector<ParamGroup> groups(1);
  groups[0].params = std::move(params);
  return groups;
}

}  // namespace retort::optim
