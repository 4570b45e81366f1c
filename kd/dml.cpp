// Deep mutual learning. The loss is built from kd_loss (which already detaches its "teacher"
// argument; the explicit detach here documents that a peer is a target, not a path for
// gradients), so nothing here needs a backward of its own.
#include "kd/dml.h"

#include "autograd/ops/elementwise.h"
#include "kd/common.h"
#include "kd/response.h"
#include "nn/functional.h"
#include "tensor/error.h"

namespace retort::kd {

MutualLoss mutual_loss(const std::vector<Tensor>& logits, std::size_t i, const Tensor& y,
                       const MutualOptions& o) {
  const std::size_t k = logits.size();
  RETORT_CHECK(k >= 2, "mutual_loss: deep mutual learning needs K >= 2 students, got ", k);
  RETORT_CHECK(i < k, "mutual_loss: student ", i, " out of range (", k, " students)");
  check_temperature("mutual_loss", o.T);
  const Tensor& zi = logits[i];
  RETORT_CHECK(zi.defined() && zi.dim() == 2, "mutual_loss: logits of student ", i, " ",
               zi.defined() ? shape_str(zi.sizes()) : "undefined", " must be [N, C]");
  for (std::size_t j = 0; j < k; ++j) {
    const Tensor& zj = logits[j];
    RETORT_CHECK(zj.defined() && zj.sizes() == zi.sizes() && zj.dtype() == zi.dtype(),
                 "mutual_loss: logits of student ", j, " ", zj.defined() ? zj.str() : "undefined",
                 " and of student ", i, " ", zi.str(), " must have the same shape and dtype");
  }
  MutualLoss r;
  r.ce = F::cross_entropy(zi, y);
  for (std::size_t j = 0; j < k; ++j) {
    if (j == i) continue;
    Tensor kl = kd_loss(zi, detach(logits[j]), {.T = o.T});
    r.kl = r.kl.defined() ? r.kl + kl : kl;
  }
  r.kl = r.kl / static_cast<double>(k - 1);
  r.total = r.ce + r.kl * o.w;
  return r;
}

MutualLearning::MutualLearning(std::vector<std::shared_ptr<nn::Module>> students,
                               std::vector<std::shared_ptr<optim::Optimizer>> optimizers,
                               const MutualOptions& options)
    : students_(std::move(students)), optimizers_(std::move(optimizers)), options_(options) {
  RETORT_CHECK(students_.size() >= 2,
               "MutualLearning: deep mutual learning needs K >= 2 students, got ",
               students_.size());
  RETORT_CHECK(optimizers_.size() == students_.size(), "MutualLearning: ", students_.size(),
               " students but ", optimizers_.size(), " optimizers (one per student)");
  for (std::size_t i = 0; i < students_.size(); ++i) {
    RETORT_CHECK(students_[i] != nullptr, "MutualLearning: student ", i, " is null");
    RETORT_CHECK(optimizers_[i] != nullptr, "MutualLearning: optimizer ", i, " is null");
  }
  check_temperature("MutualLearning", options_.T);
}

MutualStepResult MutualLearning::losses(const Tensor& x, const Tensor& y) {
  MutualStepResult r;
  for (auto& s : students_) r.logits.push_back((*s)(x));
  for (std::size_t i = 0; i < students_.size(); ++i) {
    r.losses.push_back(mutual_loss(r.logits, i, y, options_));
    r.values.push_back(r.losses.back().total.item<double>());
    r.ce_values.push_back(r.losses.back().ce.item<double>());
    r.kl_values.push_back(r.losses.back().kl.item<double>());
  }
  return r;
}

MutualStepResult MutualLearning::step(const Tensor& x, const Tensor& y) {
  for (auto& o : optimizers_) o->zero_grad();
  MutualStepResult r = losses(x, y);
  // Σ_i loss_i: loss_j (j ≠ i) reaches student i's parameters only through detached logits, so
  // each student receives exactly ∂loss_i/∂θ_i, as with K separate backwards.
  Tensor total = r.losses[0].total;
  for (std::size_t i = 1; i < r.losses.size(); ++i) total = total + r.losses[i].total;
  total.backward();
  for (auto& o : optimizers_) o->step();
  return r;
}

}  // namespace retort::kd
