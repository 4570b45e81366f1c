// lwf_loss (see lwf.h): composed of narrow and kd_loss's soft cross-entropy, so autograd derives
// the backward and the new classes' columns get an exact zero gradient from narrow.
#include "kd/lwf.h"

#include "autograd/ops/shape.h"
#include "kd/response.h"
#include "tensor/error.h"

namespace retort::kd {

Tensor lwf_loss(const Tensor& s, const Tensor& old, const LwfOptions& o) {
  RETORT_CHECK(s.defined() && old.defined() && s.dim() == 2 && old.dim() == 2 && s.size(0) == old.size(0) &&
                   old.size(1) >= 1 && old.size(1) <= s.size(1),
               "lwf_loss: student logits ", s.defined() ? shape_str(s.sizes()) : "undefined", " and old logits ",
               old.defined() ? shape_str(old.sizes()) : "undefined", ": expected [N, K] and [N, K_old] with K_old <= K");
  RETORT_CHECK(o.T > 0, "lwf_loss: T must be > 0, got ", o.T);
  return kd_loss(narrow(s, 1, 0, old.size(1)), old,
                 {.T = o.T, .reduction = Reduction::BatchMean, .scale_T2 = o.scale_T2,
                  .variant = KdVariant::SoftCrossEntropy});
}

}  // namespace retort::kd
