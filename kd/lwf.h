// Learning without Forgetting (Li & Hoiem 2016, "Learning without Forgetting", ECCV / TPAMI
// 2017): when a network learns a new task, the outputs of the previous network on the NEW
// task's data, recorded before training, are the targets of the old classes' outputs.
//
// lwf_loss(s [N, K], old [N, K_old], options), K_old ≤ K: with s_old = s[:, 0:K_old] (the old
// classes' logits of the grown head) and T = options.T,
//   y' = softmax(old / T),  ŷ' = softmax(s_old / T)       (along the old classes only)
//   loss = −Σ_n Σ_k y'_nk · log ŷ'_nk / N                 (Li & Hoiem's L_old, "modified
//                                                          cross-entropy", batch mean)
// the soft cross-entropy of kd_loss without the T² factor (Li & Hoiem's form; scale_T2 = true
// gives Hinton's T²-scaled one). Default T = 2, the paper's. The gradient reaches only the
// old-class columns of s: ∂loss/∂s_old = (ŷ' − y')/(T·N), and ∂loss/∂s[:, K_old:] = 0. `old` is
// detached. The paper's total, L_new + λ_o·L_old + weight decay with λ_o = 1, is the caller's
// sum (examples/kd_lifelong.cpp).
#pragma once
#include "tensor/tensor.h"

namespace retort::kd {

struct LwfOptions {
  double T = 2.0;         // temperature, > 0
  bool scale_T2 = false;  // multiply by T² (Hinton's scaling; Li & Hoiem do not)
};

Tensor lwf_loss(const Tensor& student_logits, const Tensor& old_logits, const LwfOptions& options = {});

}  // namespace retort::kd
