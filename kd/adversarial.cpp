// Adversarial distillation. Every loss is a composition of differentiable ops (softmax, the
// attention map, Linear/ReLU, the stable BCE of nn/functional), so the student's adversarial
// gradient — through D into the student's logits and taps — comes from the graph. The
// discriminator's own loss detaches both of its inputs: its update must not move the student,
// and the teacher side is a constant anyway.
#include "kd/adversarial.h"

#include <utility>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "autograd/ops/nn_ops.h"
#include "kd/common.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "tensor/error.h"

namespace retort::kd {

Discriminator::Discriminator(std::int64_t in_features, std::vector<std::int64_t> hidden,
                             const TensorOptions& tensor_options)
    : in_features_(in_features) {
  RETORT_CHECK(in_features > 0, "Discriminator: in_features must be > 0, got ", in_features);
  RETORT_CHECK(!hidden.empty(), "Discriminator: needs at least one hidden layer");
  net = register_module("net", std::make_shared<nn::Sequential>());
  std::int64_t in = in_features;
  for (std::int64_t h : hidden) {
    RETORT_CHECK(h > 0, "Discriminator: hidden sizes must be > 0, got ", h);
    net->push_back(std::make_shared<nn::Linear>(in, h, true, tensor_options));
    net->push_back(std::make_shared<nn::ReLU>());
    in = h;
  }
  net->push_back(std::make_shared<nn::Linear>(in, 1, true, tensor_options));
}

Tensor Discriminator::forward(const Tensor& v) {
  RETORT_CHECK(v.defined() && v.dim() == 2 && v.size(1) == in_features_, "Discriminator: input ",
               v.defined() ? shape_str(v.sizes()) : "undefined", " must be [N, ", in_features_, "]");
  return squeeze((*net)(v), 1);
}

std::int64_t discriminator_in_features(std::int64_t classes, std::int64_t feature_hw) {
  return classes + feature_hw;
}

Tensor discriminator_input(const Tensor& logits, const Tensor& feature, double T) {
  check_temperature("discriminator_input", T);
  check_rank("discriminator_input", logits, 2, "logits", "[N, K]");
  Tensor p = softmax(logits / T, -1);
  if (!feature.defined()) return p;
  check_rank("discriminator_input", feature, 4, "feature", "[N, C, H, W]");
  RETORT_CHECK(feature.size(0) == logits.size(0) && feature.dtype() == logits.dtype(),
               "discriminator_input: logits ", logits.str(), " and feature ", feature.str(),
               " must have the same N and dtype");
  // at_loss's attention map: channel mean of f², flattened and L2-normalised per sample, so
  // teacher and student maps are comparable whatever their channel counts.
  Tensor a = l2_normalize(flatten(mean(feature * feature, {1}), 1), 1);
  return cat({p, a}, 1);
}

namespace {

// The "teacher" label: ones of x's shape, dtype and device.
Tensor ones_of(const Tensor& x) { return full(x.sizes(), 1.0, x.dtype(), x.device()); }

}  // namespace

Tensor discriminator_loss_from_logits(const Tensor& d_teacher, const Tensor& d_student) {
  RETORT_CHECK(d_teacher.dim() == 1 && d_teacher.sizes() == d_student.sizes(),
               "discriminator_loss: teacher logits ", shape_str(d_teacher.sizes()), " and student logits ",
               shape_str(d_student.sizes()), " must both be [N]");
  Tensor real = F::binary_cross_entropy_with_logits(d_teacher, ones_of(d_teacher));
  Tensor fake = F::binary_cross_entropy_with_logits(d_student, zeros_like(d_student));
  return (real + fake) * 0.5;
}

Tensor adversarial_loss_from_logits(const Tensor& d_student) {
  RETORT_CHECK(d_student.dim() == 1, "adversarial_loss: student logits ", shape_str(d_student.sizes()),
               " must be [N]");
  // ℓ(x, 1) = softplus(−x) = −log σ(x): large gradients while D still rejects the student,
  // where the saturating log(1 − σ(x)) would give almost none.
  return F::binary_cross_entropy_with_logits(d_student, ones_of(d_student));
}

namespace {

void check_inputs(const char* op, const Discriminator& d, const Tensor& t, const Tensor& s) {
  RETORT_CHECK(t.defined() && s.defined() && t.sizes() == s.sizes() && t.dim() == 2 &&
                   t.size(1) == d.in_features(),
               op, ": teacher input ", t.defined() ? shape_str(t.sizes()) : "undefined", " and student input ",
               s.defined() ? shape_str(s.sizes()) : "undefined", " must both be [N, ", d.in_features(), "]");
}

}  // namespace

Tensor discriminator_loss(Discriminator& d, const Tensor& teacher_input, const Tensor& student_input) {
  check_inputs("discriminator_loss", d, teacher_input, student_input);
  return discriminator_loss_from_logits(d(detach(teacher_input)), d(detach(student_input)));
}

Tensor adversarial_loss(Discriminator& d, const Tensor& student_input) {
  return adversarial_loss_from_logits(d(student_input));
}

double DiscriminatorCounts::accuracy() const {
  return n ? static_cast<double>(teacher_correct + student_correct) / (2.0 * static_cast<double>(n)) : 0.0;
}
double DiscriminatorCounts::teacher_accuracy() const {
  return n ? static_cast<double>(teacher_correct) / static_cast<double>(n) : 0.0;
}
double DiscriminatorCounts::student_accuracy() const {
  return n ? static_cast<double>(student_correct) / static_cast<double>(n) : 0.0;
}

DiscriminatorCounts discriminator_counts(Discriminator& d, const Tensor& teacher_input,
                                         const Tensor& student_input) {
  check_inputs("discriminator_counts", d, teacher_input, student_input);
  NoGradGuard ng;
  Tensor dt = d(teacher_input), ds = d(student_input);
  DiscriminatorCounts c;
  c.n = dt.size(0);
  c.teacher_correct = static_cast<std::int64_t>(sum(gt(dt, zeros_like(dt))).item<double>());
  c.student_correct = static_cast<std::int64_t>(sum(lt(ds, zeros_like(ds))).item<double>());
  return c;
}

AdversarialKD::AdversarialKD(std::shared_ptr<Discriminator> d, std::shared_ptr<optim::Optimizer> optimizer,
                             AdversarialOptions options)
    : d_(std::move(d)), optimizer_(std::move(optimizer)), options_(std::move(options)) {
  RETORT_CHECK(d_ != nullptr && optimizer_ != nullptr, "AdversarialKD: discriminator and optimizer must be set");
  check_temperature("AdversarialKD", options_.T);
  RETORT_CHECK(options_.d_steps >= 1, "AdversarialKD: d_steps must be >= 1, got ", options_.d_steps);
  RETORT_CHECK(options_.student_tap.empty() == options_.teacher_tap.empty(),
               "AdversarialKD: give both feature taps or neither (student '", options_.student_tap,
               "', teacher '", options_.teacher_tap, "')");
}

Tensor AdversarialKD::teacher_input(const Context& ctx) const {
  Tensor f = options_.teacher_tap.empty() ? Tensor() : ctx.teacher(options_.teacher_tap);
  return detach(discriminator_input(ctx.teacher_logits, f, options_.T));
}

Tensor AdversarialKD::student_input(const Context& ctx) const {
  Tensor f = options_.student_tap.empty() ? Tensor() : ctx.student(options_.student_tap);
  return discriminator_input(ctx.student_logits, f, options_.T);
}

DiscriminatorCounts AdversarialKD::discriminator_step(const Context& ctx) {
  // Both sides as constants: D's steps neither build on nor disturb the student's graph, which
  // the student's own loss still needs afterwards.
  Tensor vt, vs;
  {
    NoGradGuard ng;
    vt = teacher_input(ctx);
    vs = student_input(ctx);
  }
  DiscriminatorCounts c = discriminator_counts(*d_, vt, vs);
  for (int k = 0; k < options_.d_steps; ++k) {
    optimizer_->zero_grad();
    Tensor loss = discriminator_loss(*d_, vt, vs);
    if (k == 0) stats_.d_loss_sum += loss.item<double>();
    loss.backward();
    optimizer_->step();
  }
  stats_.counts.teacher_correct += c.teacher_correct;
  stats_.counts.student_correct += c.student_correct;
  stats_.counts.n += c.n;
  ++stats_.batches;
  return c;
}

Term AdversarialKD::term(double weight) const {
  // The term reads D through this object, so it sees D after the batch's discriminator steps.
  Term t;
  t.name = "adv";
  t.weight = weight;
  t.fn = [this](const Context& ctx) { return adversarial_loss(*d_, student_input(ctx)); };
  return t;
}

}  // namespace retort::kd
