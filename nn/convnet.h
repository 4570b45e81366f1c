// ConvNet: a configurable plain conv net (namespace retort::nn), the family of the seed networks
// (nn/models.h) with the depth, widths and kernel size of every stage chosen by a ConvNetSpec.
//
// For an input [N, C_in, S, S] and P = spec.stages.size() stages:
//   features = Sequential( for each stage p, for each conv j < convs_p:
//                            Conv2d(c → w_pj, k_p, stride 1, padding k_p/2), ReLU,
//                          then MaxPool2d(2) )                 → [N, w_last, S/2^P, S/2^P]
//   classifier = Sequential(Linear(w_last·(S/2^P)² → hidden), ReLU, Dropout(dropout),
//                           Linear(hidden → classes))          (hidden > 0)
//              = Sequential(Linear(w_last·(S/2^P)² → classes))   (hidden = 0)
//   forward(x) = classifier(flatten(features(x), 1)): logits [N, classes].
// c is the previous conv's width (C_in for the first), w_pj the stage's width (or its per-conv
// widths), k_p odd so that padding k/2 keeps the spatial size; each max pool floors.
//
// The module layout and state-dict keys are those of the seed nets ("features.0.weight",
// "classifier.3.bias"), so the seed nets are specs and their checkpoints load into a ConvNet:
//   StudentNet = {{{1, 16, 3}, {1, 16, 3}}, 256}                       267,738 params (3, 32, 10)
//   TeacherNet = {{{2, 64, 3, {128, 64}}, {2, 32, 3, {64, 32}}}, 512}  1,186,986 params
// (ConvNetSpec::student_net() and ::teacher_net() return them). Weights are initialised as the
// layers' defaults (PyTorch's kaiming_uniform_(a=√5)), as in the seed nets.
//
// Feature taps: the last ReLU of stage p is "features.<i>" with i = index of the stage's MaxPool2d
// minus 1; ConvNet::stage_output_index(p) gives the pool's index (its output is the stage's
// pooled map, [N, w_p, S/2^(p+1), S/2^(p+1)]).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/basic.h"

namespace retort::nn {

// One stage: `convs` convolutions of kernel × kernel, each followed by ReLU, then a 2×2 max pool.
// Every conv outputs `width` channels unless `widths` is given: then it holds one output width per
// conv (widths.size() == convs) and `width` must equal widths.back() (the stage's output width).
struct ConvStage {
  std::int64_t convs = 1;
  std::int64_t width = 16;
  std::int64_t kernel = 3;
  std::vector<std::int64_t> widths = {};

  // Output width of conv j (0 ≤ j < convs).
  std::int64_t conv_width(std::int64_t j) const;
  bool operator==(const ConvStage&) const = default;
};

struct ConvNetSpec {
  std::vector<ConvStage> stages;
  std::int64_t hidden = 0;  // classifier hidden width; 0 = a single Linear
  double dropout = 0.1;     // after the hidden layer's ReLU (unused when hidden = 0)

  // Throws (naming the stage and field) unless: at least one stage; convs ≥ 1, widths ≥ 1,
  // kernel odd ≥ 1, per-conv widths consistent; hidden ≥ 0; 0 ≤ dropout < 1; image_size ≥ 2^P.
  void validate(std::int64_t image_size = 32) const;
  // "[1x16 k3] [1x16 k3] fc256"; per-conv widths as "[128,64 k3]"; "fc0" for no hidden layer.
  std::string describe() const;
  // Trainable parameters of ConvNet(spec, in_channels, num_classes, image_size), closed form:
  // Σ_convs (c·k²+1)·w + (F+1)·hidden + (hidden+1)·classes, F = w_last·(S/2^P)² (F·classes+classes
  // when hidden = 0). Equals the built module's parameter count.
  std::int64_t parameter_count(std::int64_t in_channels, std::int64_t num_classes,
                               std::int64_t image_size = 32) const;
  // Multiply-accumulates of one image's forward pass, closed form with count_macs' rules
  // (nn/macs.h): Σ_convs H_p·W_p·w·c·k² + F·hidden + hidden·classes. Equals count_macs.
  std::int64_t macs(std::int64_t in_channels, std::int64_t num_classes,
                    std::int64_t image_size = 32) const;

  static ConvNetSpec student_net();  // the seed StudentNet
  static ConvNetSpec teacher_net();  // the seed TeacherNet
  bool operator==(const ConvNetSpec&) const = default;
};

class ConvNet : public Module {
 public:
  ConvNet(ConvNetSpec spec, std::int64_t in_channels = 3, std::int64_t num_classes = 10,
          std::int64_t image_size = 32, const TensorOptions& tensor_options = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ConvNet"; }
  std::string extra_repr() const override { return spec.describe(); }

  // Index in `features` of stage p's MaxPool2d (0 ≤ p < stages).
  std::int64_t stage_output_index(std::int64_t p) const;

  const ConvNetSpec spec;
  std::shared_ptr<Sequential> features, classifier;
};

}  // namespace retort::nn
