// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, with the
// semantics of PyTorch 1.13's torch.optim.SGD. Per parameter p with gradient g, at each step:
//   d ← ±g + wd·p                                  (−g when maximize)
//   if momentum ≠ 0:
//     b ← d                                        on the parameter's first update
//     b ← momentum·b + (1 − dampening)·d           afterwards
//     d ← d + momentum·b  if nesterov,  else  d ← b
//   p ← p − lr·d
// lr and wd come from the parameter's group (optimizer.h); the rest is shared by all groups.
#pragma once
#include "optim/optimizer.h"

namespace retort::optim {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0
  bool maximize = false;  // ascend the objective instead
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& options);
  SGD(std::vector<ParamGroup> groups, const SGDOptions& options);

  const SGDOptions& options() const { return options_; }

 protected:
  void update(const ParamGroup& group, const Tensor& p, const Tensor& g, ParamState& state) override;

 private:
  SGDOptions options_;
};

}  // namespace retort::optim
