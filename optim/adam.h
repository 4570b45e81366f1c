// Adam and AdamW with the semantics of PyTorch 1.13 (torch.optim.Adam / AdamW, single-tensor
// path). Per parameter p with gradient g, at its t-th update (t counts this parameter's own
// updates, see optimizer.h):
//   g ← ±g                                   (−g when maximize)
//   Adam:  g ← g + wd·p                      (L2 penalty folded into the gradient)
//   AdamW: p ← p·(1 − lr·wd)                 (decoupled weight decay)
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   v̂ ← max(v̂, v) if amsgrad, else v̂ = v
//   p ← p − lr/(1 − β1^t) · m / (√v̂ / √(1 − β2^t) + eps)
// m, v (and v̂) start at zero; lr and wd come from the parameter's group.
#pragma once
#include "optim/optimizer.h"

namespace retort::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool maximize = false;
};

// Same fields as AdamOptions; only the default weight decay differs (PyTorch's AdamW default).
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& options);
  Adam(std::vector<ParamGroup> groups, const AdamOptions& options);

  const AdamOptions& options() const { return options_; }
  bool decoupled_weight_decay() const { return decoupled_; }

 protected:
  Adam(const char* name, std::vector<ParamGroup> groups, const AdamOptions& options, bool decoupled);
  void update(const ParamGroup& group, const Tensor& p, const Tensor& g, ParamState& state) override;

 private:
  AdamOptions options_;
  bool decoupled_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& options);
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options);
};

}  // namespace retort::optim
