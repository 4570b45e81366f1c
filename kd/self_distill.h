// Self-distillation (namespace retort::kd): the student is its own teacher.
//
// (a) SnapshotTeacher — a frozen copy of the student's current weights used as the teacher of
// the next phase (snapshot distillation, Yang et al. 2019; born-again networks, Furlanello et al.
// 2018, when the student is re-initialised after each refresh). The copy is a fresh module from
// a factory (same architecture), filled by load_state_dict(student.state_dict()) (buffers such
// as BatchNorm running statistics included), converted to the student's dtype and device, set to
// eval with requires_grad false. refresh() copies again in place: the module object never
// changes, so a Distiller built with snapshot.module() as its teacher sees the new weights
// without any change to the Distiller; refresh(distiller) also clears its teacher-logit cache,
// which would otherwise return the old snapshot's logits.
//
//   kd::SnapshotTeacher snap(student, [] { return std::make_shared<nn::StudentNet>(); });
//   kd::Distiller d(student, snap.module());
//   for (epoch ...) { ... d.train_step(opt, x, y) ...; snap.refresh(d); }
//
// (b) Deep-to-shallow auxiliary heads (Zhang et al. 2019, "Be Your Own Teacher", BYOT).
// SelfDistillNet wraps a backbone (its output: the deepest logits z [N, K]) and attaches an
// AuxHead to the output of each tapped module (backbone-relative module paths). A head maps a
// feature f to a vector h [N, D] and logits q = Linear(D → K)(h):
//   Linear kind:         f [N, C, H, W] → h = flatten(adaptive_avg_pool(f, 1)) [N, C];
//                        f [N, D] → h = f.
//   ConvBottleneck kind: f [N, C, H, W] → Conv1×1(C → B) → ReLU → Conv3×3(B → B, pad 1) → ReLU →
//                        pool → h [N, B]; B = bottleneck_channels, default the deep feature's C
//                        (so the hint applies), else C. (A small stand-in for the reference's
//                        per-head SepConv stacks, which also downsample.)
// The loss, with the deepest logits as the teacher (detached) and y int64 [N]:
//   L = CE(z, y) + Σ_i [(1 − α)·CE(q_i, y) + α·T²·KL(softmax(z/T) ‖ softmax(q_i/T))]
//       + β·Σ_{i: hint} mse(h_i, d)          (d = the deep feature, pooled like h, detached)
// The hint applies to head i when h_i and d have the same shape [N, D] (deep_path set).
// Defaults α = 0.3, T = 3, β = 0.03: those of the BYOT reference training script
// (loss_coefficient, temperature, feature_loss_coefficient). Differences from that script: it
// writes the KL term as the soft cross-entropy −Σ p_z log q without T² (options variant
// SoftCrossEntropy, scale_T2 false give that form); its hint is torch.dist(A_i(h_i), d), one
// Frobenius norm over the batch, through a learned Linear adaptation A_i, and leaves out the
// deepest auxiliary head (its outputs are ordered deepest first and index 1 is skipped), whereas
// here it is the mean squared error on equal shapes for every head whose shape matches.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kd/distiller.h"
#include "kd/response.h"
#include "nn/linear.h"
#include "nn/module.h"
#include "tensor/tensor.h"

namespace retort::kd {

class SnapshotTeacher {
 public:
  using Factory = std::function<std::shared_ptr<nn::Module>()>;
  // Builds the copy with factory() and takes the first snapshot. The factory's module must have
  // exactly the student's state-dict keys and shapes (error otherwise, listing the mismatch).
  SnapshotTeacher(std::shared_ptr<nn::Module> student, Factory factory);

  void refresh();                      // copy ← student's current state dict (in place)
  void refresh(Distiller& distiller);  // refresh() and distiller.clear_teacher_cache()
  const std::shared_ptr<nn::Module>& module() const { return snapshot_; }
  std::int64_t refreshes() const { return refreshes_; }  // 1 after construction

 private:
  std::shared_ptr<nn::Module> student_, snapshot_;
  std::int64_t refreshes_ = 0;
};

struct SelfDistillOptions {
  double T = 3.0;      // temperature, > 0
  double alpha = 0.3;  // KL weight α (CE weight 1 − α) of each head
  double beta = 0.03;  // hint weight β
  // Form of the α term, as kd_loss (batchmean): default T²·KL; the BYOT script's form is
  // variant SoftCrossEntropy with scale_T2 false.
  KdVariant variant = KdVariant::KL;
  bool scale_T2 = true;
};

struct SelfDistillLoss {
  Tensor total, ce_deep;             // scalars
  std::vector<Tensor> ce, kd, hint;  // per head; hint[i] undefined when it does not apply
};

// L of the header for logits z [N, K], head logits q_i [N, K], labels y [N]; head_features h_i
// ([N, D] or undefined = no hint for head i) and deep_feature d [N, D] (undefined = no hint).
SelfDistillLoss self_distill_loss(const Tensor& logits, const std::vector<Tensor>& head_logits,
                                  const Tensor& y, const SelfDistillOptions& options = {},
                                  const std::vector<Tensor>& head_features = {},
                                  const Tensor& deep_feature = Tensor());

enum class AuxHeadKind { Linear, ConvBottleneck };

class AuxHead : public nn::Module {
 public:
  // feature_shape: the tapped feature [N, C, H, W] or [N, D]; path is only for error messages.
  // Created in tensor_options' dtype and device (SelfDistillNet passes its example's).
  AuxHead(AuxHeadKind kind, const std::string& path, const Shape& feature_shape,
          std::int64_t num_classes, std::int64_t bottleneck_channels = 0,
          const TensorOptions& tensor_options = {});
  // f → (h [N, D], logits [N, K]).
  std::pair<Tensor, Tensor> features_and_logits(const Tensor& f);
  Tensor forward(const Tensor& f) override { return features_and_logits(f).second; }
  std::string type_name() const override { return "AuxHead"; }

  AuxHeadKind kind;
  std::int64_t feature_dim;                  // D
  std::shared_ptr<nn::Conv2d> conv1, conv2;  // ConvBottleneck only
  std::shared_ptr<nn::Linear> fc;
};

struct AuxHeadsOptions {
  AuxHeadKind kind = AuxHeadKind::Linear;
  std::string deep_path;                 // tap of the deepest feature (hint); empty: no hint
  std::int64_t bottleneck_channels = 0;  // 0: see the header
};

class SelfDistillNet : public nn::Module {
 public:
  // One no-grad eval-mode forward of `example` through the backbone infers K and every head's
  // input shape (training mode is restored afterwards). Throws naming the path and the shape
  // when a head cannot attach.
  SelfDistillNet(std::shared_ptr<nn::Module> backbone, const std::vector<std::string>& head_paths,
                 const Tensor& example, const AuxHeadsOptions& options = {});

  struct Outputs {
    Tensor logits;                      // z [N, K]
    std::vector<Tensor> head_logits;    // q_i [N, K]
    std::vector<Tensor> head_features;  // h_i [N, D_i], undefined where the hint does not apply
    Tensor deep_feature;                // d [N, D] or undefined
  };
  Tensor forward(const Tensor& x) override;  // z only: the heads are skipped at inference
  Outputs forward_all(const Tensor& x);
  // The heads on given tapped features (in head order) and deep feature (raw, un-pooled).
  Outputs heads_forward(const Tensor& logits, const std::vector<Tensor>& features,
                        const Tensor& deep_feature);
  SelfDistillLoss loss(const Outputs& out, const Tensor& y,
                       const SelfDistillOptions& options = {}) const;
  std::string type_name() const override { return "SelfDistillNet"; }

  std::shared_ptr<nn::Module> backbone;
  std::vector<std::shared_ptr<AuxHead>> heads;  // registered as heads.0, heads.1, ...
  std::vector<std::string> head_paths;
  std::vector<bool> hint_applies;

 private:
  std::vector<nn::FeatureTap> taps_;
  nn::FeatureTap deep_tap_;
  bool has_deep_ = false;
};

}  // namespace retort::kd
