// Real int8 inference for a quantisation-aware-trained model (nn/quant.h): the converted layers
// run on 8-bit integers through tensor/int8.h (oneDNN's int8 convolution and matmul, or the
// reference loops), everything between them (max pooling, flatten) in float32.
//
//   nn::quantize_aware(*net, {.bits = 8});  ... train ...
//   nn::Int8Model int8 = nn::Int8Model::from_sequentials(*net->features, *net->classifier);
//   Tensor logits = int8.forward(images);   // [N, 3, 32, 32] → [N, 10]
//
// Each QuantConv2d / QuantLinear becomes an ops::Int8Layer computing what its fake-quantised
// forward computes, in integers:
//   input  q = clamp(round(x / s_x) + z, qmin, qmax) − qmin   (u8; its zero point z' = z − qmin,
//          so signed grids are shifted onto u8 and zero-point-0 grids keep z' = −qmin)
//   weight w_q = clamp(round(W / s_w[o]), qmin, qmax)        (s8, per output channel o)
//   y[o]   = s_x·s_w[o] · Σ (q − z')·w_q + b[o]
//          = s_x·s_w[o] · Σ q·w_q + (b[o] − s_x·s_w[o]·z'·Σ w_q[o, ·])
// with the zero-point term folded into the bias, and a convolution's padding filled with z' (the
// integer for a real 0, as the float model pads its fake-quantised input with 0). A ReLU that
// directly follows a layer is fused into it. The scales are read from the quantisers at
// conversion (run one forward first: observers and LSQ steps are set by it); the result differs
// from the fake-quantised forward only by float rounding in the sums.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"
#include "tensor/int8.h"

namespace retort::nn {

class Int8Model {
 public:
  // The modules run in order: QuantConv2d, QuantLinear, ReLU, MaxPool2d, Flatten, Dropout,
  // Identity (anything else throws, naming it). No Flatten is inserted: give one where the
  // model flattens in forward().
  explicit Int8Model(const std::vector<std::shared_ptr<Module>>& chain);
  // A seed net's layout: features' children, a flatten, classifier's children.
  static Int8Model from_sequentials(const Module& features, const Module& classifier);

  // x [N, ...] float32 → the last layer's output, float32. No graph is recorded.
  Tensor forward(const Tensor& x) const;
  // One line per step ("int8 conv 3→16 k3 p1 + relu", "maxpool", ...).
  std::string summary() const;

 private:
  struct Step {
    enum class Kind { Conv, Linear, Float } kind;
    ops::Int8Layer layer;
    float in_scale = 1;           // s_x
    float in_zero = 0;            // z (before the shift onto u8)
    std::int64_t qmin = 0, qmax = 255;
    std::int64_t pad_h = 0, pad_w = 0;
    std::shared_ptr<Module> module;  // Float steps
    std::string name;
  };
  std::vector<Step> steps_;
};

}  // namespace retort::nn
