// Self-distillation. The snapshot is copied in place so that every holder of the module (a
// Distiller, a tap) keeps seeing the live copy; the BYOT heads read the backbone through taps so
// the backbone's code is not touched, and the loss is composed of existing losses (kd_loss,
// cross_entropy, mse_loss) with the deepest outputs detached.
#include "kd/self_distill.h"

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "kd/common.h"
#include "nn/functional.h"
#include "tensor/error.h"

namespace retort::kd {

// ---- SnapshotTeacher --------------------------------------------------------------------

SnapshotTeacher::SnapshotTeacher(std::shared_ptr<nn::Module> student, Factory factory)
    : student_(std::move(student)) {
  RETORT_CHECK(student_ != nullptr, "SnapshotTeacher: student is null");
  RETORT_CHECK(static_cast<bool>(factory), "SnapshotTeacher: no factory");
  snapshot_ = factory();
  RETORT_CHECK(snapshot_ != nullptr && snapshot_ != student_,
               "SnapshotTeacher: the factory must return a new module");
  refresh();
}

void SnapshotTeacher::refresh() {
  // The factory builds in the default dtype; match the student's so outputs compare exactly.
  for (const auto& [name, p] : student_->named_parameters()) {
    snapshot_->to(p.dtype());
    snapshot_->to(p.device());
    break;
  }
  nn::TensorMap state;
  for (const auto& [name, t] : student_->state_dict()) state[name] = t;
  try {
    snapshot_->load_state_dict(state);
  } catch (const Error& e) {
    fail("SnapshotTeacher: the factory's ", snapshot_->type_name(), " does not match the student ",
         student_->type_name(), ": ", e.what());
  }
  snapshot_->requires_grad_(false);
  snapshot_->eval();
  ++refreshes_;
}

void SnapshotTeacher::refresh(Distiller& distiller) {
  refresh();
  distiller.clear_teacher_cache();
}

// ---- The BYOT loss ----------------------------------------------------------------------

SelfDistillLoss self_distill_loss(const Tensor& z, const std::vector<Tensor>& q, const Tensor& y,
                                  const SelfDistillOptions& o, const std::vector<Tensor>& h,
                                  const Tensor& d) {
  RETORT_CHECK(!q.empty(), "self_distill_loss: no head logits");
  RETORT_CHECK(h.empty() || h.size() == q.size(), "self_distill_loss: ", q.size(), " heads but ",
               h.size(), " head features");
  RETORT_CHECK(o.alpha >= 0 && o.alpha <= 1, "self_distill_loss: alpha must be in [0, 1], got ",
               o.alpha);
  SelfDistillLoss r;
  r.ce_deep = F::cross_entropy(z, y);
  r.total = r.ce_deep;
  Tensor teacher = detach(z);
  for (std::size_t i = 0; i < q.size(); ++i) {
    check_same_shape("self_distill_loss", q[i], z, "logits (head vs deepest)");
    r.ce.push_back(F::cross_entropy(q[i], y));
    r.kd.push_back(kd_loss(q[i], teacher, {.T = o.T, .scale_T2 = o.scale_T2, .variant = o.variant}));
    r.total = r.total + r.ce.back() * (1.0 - o.alpha) + r.kd.back() * o.alpha;
    Tensor hint;
    if (!h.empty() && h[i].defined() && d.defined()) {
      check_same_shape("self_distill_loss", h[i], d, "feature (head vs deepest)");
      hint = F::mse_loss(h[i], detach(d));
      r.total = r.total + hint * o.beta;
    }
    r.hint.push_back(hint);
  }
  return r;
}

// ---- AuxHead ----------------------------------------------------------------------------

AuxHead::AuxHead(AuxHeadKind k, const std::string& path, const Shape& s, std::int64_t classes,
                 std::int64_t bottleneck, const TensorOptions& to)
    : kind(k) {
  RETORT_CHECK(s.size() == 4 || s.size() == 2, "AuxHead: cannot attach a head at '", path,
               "': feature ", shape_str(s), " must be [N, C, H, W] or [N, D]");
  RETORT_CHECK(k == AuxHeadKind::Linear || s.size() == 4,
               "AuxHead: cannot attach a conv bottleneck head at '", path, "': feature ",
               shape_str(s), " must be [N, C, H, W]");
  feature_dim = s[1];
  if (k == AuxHeadKind::ConvBottleneck) {
    std::int64_t b = bottleneck > 0 ? bottleneck : s[1];
    conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(s[1], b, 1, 1, 0, 1, 1, true, to));
    conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(b, b, 3, 1, 1, 1, 1, true, to));
    feature_dim = b;
  }
  fc = register_module("fc", std::make_shared<nn::Linear>(feature_dim, classes, true, to));
}

std::pair<Tensor, Tensor> AuxHead::features_and_logits(const Tensor& f) {
  Tensor x = f;
  if (kind == AuxHeadKind::ConvBottleneck) x = relu((*conv2)(relu((*conv1)(x))));
  Tensor h = x.dim() == 4 ? flatten(adaptive_avg_pool2d(x, {1, 1}), 1) : x;
  return {h, (*fc)(h)};
}

// ---- SelfDistillNet ---------------------------------------------------------------------

namespace {
// [N, C, H, W] → [N, C] by global average pooling; [N, D] as is.
Tensor pooled(const Tensor& f) {
  return f.dim() == 4 ? flatten(adaptive_avg_pool2d(f, {1, 1}), 1) : f;
}
}  // namespace

SelfDistillNet::SelfDistillNet(std::shared_ptr<nn::Module> bb,
                               const std::vector<std::string>& paths, const Tensor& example,
                               const AuxHeadsOptions& o)
    : head_paths(paths) {
  RETORT_CHECK(bb != nullptr, "SelfDistillNet: backbone is null");
  RETORT_CHECK(!paths.empty(), "SelfDistillNet: no head paths");
  backbone = register_module("backbone", bb);
  for (const auto& p : paths) taps_.push_back(backbone->tap(p));
  has_deep_ = !o.deep_path.empty();
  if (has_deep_) deep_tap_ = backbone->tap(o.deep_path);

  Tensor z;
  const bool was_training = backbone->is_training();
  backbone->eval();
  {
    NoGradGuard no_grad;
    z = (*backbone)(example);
  }
  backbone->train(was_training);
  RETORT_CHECK(z.dim() == 2, "SelfDistillNet: the backbone's output ", shape_str(z.sizes()),
               " must be logits [N, K]");
  Shape deep;
  if (has_deep_) {
    deep = deep_tap_.output().sizes();
    RETORT_CHECK(deep.size() == 4 || deep.size() == 2, "SelfDistillNet: deep feature at '",
                 o.deep_path, "' ", shape_str(deep), " must be [N, C, H, W] or [N, D]");
  }
  auto container = register_module("heads", std::make_shared<nn::Module>());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    Shape s = taps_[i].output().sizes();
    std::int64_t b = o.bottleneck_channels > 0 ? o.bottleneck_channels : (has_deep_ ? deep[1] : 0);
    auto head = std::make_shared<AuxHead>(o.kind, paths[i], s, z.size(1), b,
                                          TensorOptions{example.dtype(), example.device()});
    heads.push_back(container->register_module(std::to_string(i), head));
    hint_applies.push_back(has_deep_ && head->feature_dim == deep[1]);
    taps_[i].clear();
  }
  if (has_deep_) deep_tap_.clear();
}

Tensor SelfDistillNet::forward(const Tensor& x) {
  Tensor z = (*backbone)(x);
  for (auto& t : taps_) t.clear();
  if (has_deep_) deep_tap_.clear();
  return z;
}

SelfDistillNet::Outputs SelfDistillNet::forward_all(const Tensor& x) {
  Tensor z = (*backbone)(x);
  std::vector<Tensor> features;
  for (auto& t : taps_) {
    features.push_back(t.output());
    t.clear();
  }
  Tensor d;
  if (has_deep_) {
    d = deep_tap_.output();
    deep_tap_.clear();
  }
  return heads_forward(z, features, d);
}

SelfDistillNet::Outputs SelfDistillNet::heads_forward(const Tensor& z,
                                                      const std::vector<Tensor>& features,
                                                      const Tensor& deep) {
  RETORT_CHECK(features.size() == heads.size(), "SelfDistillNet::heads_forward: ", heads.size(),
               " heads but ", features.size(), " features");
  Outputs out;
  out.logits = z;
  if (deep.defined()) out.deep_feature = pooled(deep);
  for (std::size_t i = 0; i < heads.size(); ++i) {
    auto [h, q] = heads[i]->features_and_logits(features[i]);
    out.head_logits.push_back(q);
    out.head_features.push_back(hint_applies[i] && deep.defined() ? h : Tensor());
  }
  return out;
}

SelfDistillLoss SelfDistillNet::loss(const Outputs& out, const Tensor& y,
                                     const SelfDistillOptions& options) const {
  return self_distill_loss(out.logits, out.head_logits, y, options, out.head_features,
                           out.deep_feature);
}

}  // namespace retort::kd
