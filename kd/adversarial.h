// Adversarial distillation (namespace retort::kd), after Xu, Hsu & Huang 2017, "Training Shallow
// and Thin Networks for Acceleration via Knowledge Distillation with Conditional Adversarial
// Networks" (arXiv 1709.00513): a discriminator D learns to tell the teacher's output
// distribution ("real") from the student's ("fake"); the student is trained to fool it while it
// also fits the labels and the teacher's soft targets. The two are trained alternately, each
// with its own optimiser. docs/kd.md states where Retort departs from the paper.
//
// Discriminator input, from logits z [N, K] and optionally a tapped feature map f [N, C, H, W]:
//   v(z)    = softmax(z/T)                                  [N, K]       (softened logits)
//   v(z, f) = [softmax(z/T), a(f)]                          [N, K + H·W]
//   a(f)    = l2_normalize(flatten(mean_C f²))  (the attention map of Zagoruyko & Komodakis, as
//             kd::at_loss; C may differ between teacher and student, H·W may not)
// D(v) [N] is a logit: D(v) > 0 reads "teacher".
//
// Losses, with ℓ(x, y) = binary_cross_entropy_with_logits = softplus(x) − y·x:
//   L_D   = ½·[mean_n ℓ(D(v_t), 1) + mean_n ℓ(D(sg(v_s)), 0)]   discriminator (sg = detach: no
//                                                                gradient reaches the student)
//   L_adv = mean_n ℓ(D(v_s), 1) = mean_n softplus(−D(v_s))      student (Goodfellow's
//                                                                non-saturating generator loss)
//   student loss = w_ce·CE(s, y) + w_kd·KD(s, t) + w_adv·L_adv
// At D's optimum against a student that imitates the teacher exactly, D(v) = 0 everywhere,
// L_D = L_adv = log 2 and D's accuracy is 50%.
// D's accuracy on a batch: (#{D(v_t) > 0} + #{D(v_s) < 0}) / 2N.
//
// Alternating steps (AdversarialKD): for each batch, after the teacher's and the student's
// forwards and before the student's loss,
//   1. discriminator_step(ctx): k times { zero D's gradients; L_D on this batch's teacher and
//      detached student inputs; backward; D's optimiser steps } (D's accuracy and L_D are
//      recorded before the first of them: on student outputs D has not been trained on);
//   2. the student's terms, among them term(w_adv) = w_adv·L_adv against the updated D; the
//      student's optimiser steps. D's parameters must not be in the student's optimiser (the
//      student's backward leaves gradients in D, which the next zero_grad of step 1 clears).
//
//   auto d = std::make_shared<kd::Discriminator>(10);                        // K = 10
//   auto d_opt = std::make_shared<optim::Adam>(d->parameters(), optim::AdamOptions{.lr = 2e-4, .beta1 = 0.5});
//   kd::AdversarialKD adv(d, d_opt, {.T = 2, .d_steps = 1});
//   adv.discriminator_step(ctx);                        // before the student's loss
//   Tensor loss = ce + kd + adv.term(1.0).fn(ctx);  // the examples: Objective terms + on_context
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kd/distiller.h"
#include "nn/basic.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "tensor/tensor.h"

namespace retort::kd {

// MLP discriminator: [N, IN] → [N] logits,
//   net = Sequential(Linear(IN → h_1), ReLU, …, Linear(h_{L−1} → h_L), ReLU, Linear(h_L → 1))
// (state-dict keys net.0.weight, net.0.bias, net.2.…). ReLU, not the LeakyReLU of GAN practice
// (docs/kd.md). hidden must be non-empty with positive sizes.
class Discriminator : public nn::Module {
 public:
  explicit Discriminator(std::int64_t in_features, std::vector<std::int64_t> hidden = {128, 128},
                         const TensorOptions& tensor_options = {});
  Tensor forward(const Tensor& v) override;  // v [N, IN] → [N]
  std::string type_name() const override { return "Discriminator"; }
  std::int64_t in_features() const { return in_features_; }

  std::shared_ptr<nn::Sequential> net;

 private:
  std::int64_t in_features_;
};

// v(z) or v(z, f) of the header comment: logits [N, K] (graph or constant), feature [N, C, H, W]
// or undefined (logits only). Throws naming both shapes on a batch mismatch.
Tensor discriminator_input(const Tensor& logits, const Tensor& feature, double T);
// IN of the discriminator for K classes and, with features, H·W attention values (0: none).
std::int64_t discriminator_in_features(std::int64_t classes, std::int64_t feature_hw = 0);

// L_D from the discriminator's logits on teacher inputs d_t [N] and student inputs d_s [N]
// (the caller detaches the student input before D: see discriminator_loss below). Scalar.
Tensor discriminator_loss_from_logits(const Tensor& d_teacher, const Tensor& d_student);
// L_adv from the discriminator's logits on student inputs d_s [N] (graph through D and the
// student). Scalar.
Tensor adversarial_loss_from_logits(const Tensor& d_student);

// The same from the inputs: L_D(D, v_t, v_s) detaches both inputs; L_adv(D, v_s) keeps v_s's
// graph. v_t, v_s [N, IN] with IN = D.in_features().
Tensor discriminator_loss(Discriminator& d, const Tensor& teacher_input, const Tensor& student_input);
Tensor adversarial_loss(Discriminator& d, const Tensor& student_input);

// D's verdicts on one batch (no graph).
struct DiscriminatorCounts {
  std::int64_t teacher_correct = 0;  // #{D(v_t) > 0}
  std::int64_t student_correct = 0;  // #{D(v_s) < 0}
  std::int64_t n = 0;                // samples per side
  double accuracy() const;           // (teacher + student) / 2n, in [0, 1]; 0 when n = 0
  double teacher_accuracy() const;
  double student_accuracy() const;
};
DiscriminatorCounts discriminator_counts(Discriminator& d, const Tensor& teacher_input,
                                         const Tensor& student_input);

struct AdversarialOptions {
  double T = 2.0;      // temperature of the softened logits D sees, > 0
  int d_steps = 1;     // k: discriminator steps per student step, ≥ 1
  // Feature taps read from the Context (Distiller / examples' Objective paths); both empty:
  // logits only; both set: D also sees their attention maps.
  std::string student_tap, teacher_tap;
};

// Running sums over the discriminator steps since the last reset (an epoch, say).
struct AdversarialStats {
  DiscriminatorCounts counts;  // verdicts before each batch's first D step
  double d_loss_sum = 0;       // L_D before each batch's first D step
  std::int64_t batches = 0;
  double mean_d_loss() const { return batches ? d_loss_sum / static_cast<double>(batches) : 0.0; }
};

class AdversarialKD {
 public:
  // d and its optimiser (over d's parameters only); checks the options.
  AdversarialKD(std::shared_ptr<Discriminator> d, std::shared_ptr<optim::Optimizer> optimizer,
                AdversarialOptions options = {});

  // Step 1 of the header comment on ctx's teacher and student outputs (and taps). Returns the
  // batch's verdicts before the update; adds them to stats().
  DiscriminatorCounts discriminator_step(const Context& ctx);
  // "adv": L_adv(D, v(ctx.student_logits[, student feature])), weight w_adv. The term refers to
  // this object (it reads D as it is when the term runs): keep it alive while the term is used.
  Term term(double weight) const;

  // D's inputs for ctx: teacher side (constant) and student side (graph).
  Tensor teacher_input(const Context& ctx) const;
  Tensor student_input(const Context& ctx) const;

  const AdversarialStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }
  Discriminator& discriminator() { return *d_; }
  const AdversarialOptions& options() const { return options_; }

 private:
  std::shared_ptr<Discriminator> d_;
  std::shared_ptr<optim::Optimizer> optimizer_;
  AdversarialOptions options_;
  AdversarialStats stats_;
};

}  // namespace retort::kd
