// Quantisation-aware training (QAT): fake-quantising modules and quantize_aware(), which turns a
// trained or freshly built float model into its QAT form without touching the model's class.
//
//   auto net = std::make_shared<nn::StudentNet>();
//   nn::quantize_aware(*net, {.bits = 4});   // every Conv2d / Linear now sees k-bit inputs/weights
//   ... train net as usual (the optimiser must be built after this call: it adds parameters
//       with LSQ) ...
//
// quantize_aware replaces each Conv2d and Linear reached through its parent's child list (every
// layer of a Sequential, so the seed nets' layers) by a QuantConv2d / QuantLinear that shares the
// layer's weight and bias tensors (same TensorImpl: state-dict keys and optimiser handles stay
// valid) and computes
//   y = conv2d(Q_a(x), Q_w(W), b)   resp.   y = Q_a(x)·Q_w(W)ᵀ + b,
// where Q_w fake-quantises the weight [C_out, ...] symmetrically on a signed grid (per output
// channel by default; scale from the weight's current min/max, or a learned LSQ step) and Q_a the
// input activations: asymmetric with a zero point from a moving average of the batch min/max
// (PyTorch's MovingAverageMinMaxObserver), or LSQ with zero point 0 (on an unsigned grid when the
// first observed batch has no negative value, else a signed one). The bias stays float (the
// int8 model, nn/int8.h, adds it in float to the scaled integer sum).
//
// Like LSQ's experiments, the first and the last quantised layer use `first_last_bits` (8 by
// default); "first" and "last" are in named_modules() order, i.e. registration order, which is
// forward order for the seed nets and other Sequential models.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops/quant.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace retort::nn {

struct QuantConfig {
  int bits = 8;                 // weights and activations, 2..8
  int first_last_bits = 8;      // the first and last quantised layer; 0: use `bits`
  bool lsq = false;             // learned step sizes instead of min/max observers
  bool per_channel = true;      // weights: one scale per output channel, else one per tensor
  double momentum = 0.1;        // activation observer: range ← range + momentum·(batch − range)
};

// Fake-quantises whatever it is called on (a weight or an activation).
//   kind Weight:     signed grid, symmetric, per channel (axis 0) or per tensor.
//   kind Activation: per tensor; asymmetric with a zero point (observer) or zero point 0 (LSQ).
// Observer mode: buffers "scale" and "zero_point" (per-channel weights: [C, 1, ...]) are
// recomputed from the weight each forward, or for activations from the ranges "lo"/"hi", which
// training forwards update (the first one copies the batch's min/max, later ones move by
// momentum); eval forwards use the stored range. LSQ mode: the step is s = s₀·p, with buffer
// "step_init" s₀ set on the first forward to 2·mean(|x|)/√qmax (the paper's rule) over the
// elements sharing it and parameter "step_scale" p (initially 1) trained, LSQ's gradient scale
// 1/√(N·qmax) applied to s. Storing p rather than s makes Adam's updates relative to the initial
// step: Adam moves every parameter by about lr whatever its gradient's scale, which on steps of
// ~1e-3 (weights) flips their sign within a few batches. Buffer "initialized" is 1 once the first
// forward set the range or step.
class FakeQuantize : public Module {
 public:
  enum class Kind { Weight, Activation };
  // param_shape: the shape of the scale / step, [] per tensor or [C, 1, ...] per channel of a
  // weight [C, ...]; dtype: the quantised tensors' dtype.
  FakeQuantize(Kind kind, int bits, bool lsq, const Shape& param_shape = {}, DType dtype = kFloat32,
               double momentum = 0.1);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "FakeQuantize"; }
  std::string extra_repr() const override;

  // The grid, scale and zero point the last forward used (per channel: [C, 1, ...]); what an
  // integer backend needs to reproduce it. Throws before the first forward.
  QuantRange range() const;
  Tensor scale() const;
  Tensor zero_point() const;

  Kind kind;
  int bits;
  bool lsq;
  double momentum;

 private:
  void observe(const Tensor& x);
  void initialize_step(const Tensor& x);
  // Per-channel min / max of x (channels on axis 0) in the scale's shape, or 0-d ones.
  std::pair<Tensor, Tensor> min_max(const Tensor& x) const;
  Shape param_shape_;
  Tensor initialized_, signed_, lo_, hi_, scale_, zero_point_, step_init_, step_;
};

// A Conv2d whose input and weight are fake-quantised (children "input_quant", "weight_quant").
class QuantConv2d : public Module {
 public:
  QuantConv2d(const Conv2d& conv, int bits, const QuantConfig& config);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "QuantConv2d"; }
  std::string extra_repr() const override;

  std::int64_t in_channels, out_channels;
  std::array<std::int64_t, 2> kernel_size;
  Conv2dOptions options;
  Tensor weight, bias;  // the float layer's tensors
  std::shared_ptr<FakeQuantize> input_quant, weight_quant;
};

// A Linear whose input and weight are fake-quantised (children "input_quant", "weight_quant").
class QuantLinear : public Module {
 public:
  QuantLinear(const Linear& linear, int bits, const QuantConfig& config);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "QuantLinear"; }
  std::string extra_repr() const override;

  std::int64_t in_features, out_features;
  Tensor weight, bias;
  std::shared_ptr<FakeQuantize> input_quant, weight_quant;
};

// Converts model in place (see the header comment); returns the paths of the converted layers in
// order. Throws, converting nothing, when config is invalid, when the model has no Conv2d or
// Linear, or when a layer is also held outside its parent's child list (a model that calls a
// member pointer would keep running the float layer; the message names the layer).
std::vector<std::string> quantize_aware(Module& model, const QuantConfig& config);

}  // namespace retort::nn
