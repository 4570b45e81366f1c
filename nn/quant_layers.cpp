// QuantConv2d, QuantLinear and quantize_aware (see quant.h). The QAT layers register the float
// layer's own weight and bias tensors, so a converted model keeps its state-dict keys (plus the
// quantisers' entries) and an optimiser built over the float parameters still updates them.
#include <sstream>
#include <typeinfo>

#include "autograd/ops/nn_ops.h"
#include "nn/quant.h"
#include "tensor/shape.h"

namespace retort::nn {
namespace {

// [C_out, 1, ..., 1] for per-channel weights, [] per tensor.
Shape weight_param_shape(const Tensor& w, bool per_channel) {
  if (!per_channel) return {};
  Shape s(static_cast<std::size_t>(w.dim()), 1);
  s[0] = w.size(0);
  return s;
}

std::shared_ptr<FakeQuantize> weight_quantizer(const Tensor& w, int bits, const QuantConfig& c) {
  return std::make_shared<FakeQuantize>(FakeQuantize::Kind::Weight, bits, c.lsq,
                                        weight_param_shape(w, c.per_channel), w.dtype(), c.momentum);
}

std::shared_ptr<FakeQuantize> input_quantizer(const Tensor& w, int bits, const QuantConfig& c) {
  return std::make_shared<FakeQuantize>(FakeQuantize::Kind::Activation, bits, c.lsq, Shape{},
                                        w.dtype(), c.momentum);
}

void check_config(const QuantConfig& c) {
  RETORT_CHECK(c.bits >= 2 && c.bits <= 8, "quantize_aware: bits must be in [2, 8], got ", c.bits);
  RETORT_CHECK(c.first_last_bits == 0 || (c.first_last_bits >= 2 && c.first_last_bits <= 8),
               "quantize_aware: first_last_bits must be 0 or in [2, 8], got ", c.first_last_bits);
  RETORT_CHECK(c.momentum > 0 && c.momentum <= 1, "quantize_aware: momentum must be in (0, 1], got ",
               c.momentum);
}

}  // namespace

QuantConv2d::QuantConv2d(const Conv2d& conv, int bits, const QuantConfig& config)
    : in_channels(conv.in_channels),
      out_channels(conv.out_channels),
      kernel_size(conv.kernel_size),
      options(conv.options) {
  weight = register_parameter("weight", conv.weight, conv.weight.requires_grad());
  if (conv.bias.defined()) bias = register_parameter("bias", conv.bias, conv.bias.requires_grad());
  input_quant = register_module("input_quant", input_quantizer(weight, bits, config));
  weight_quant = register_module("weight_quant", weight_quantizer(weight, bits, config));
  train(conv.is_training());
}

Tensor QuantConv2d::forward(const Tensor& x) {
  RETORT_CHECK(x.dim() == 4 && x.size(1) == in_channels, "QuantConv2d: input ", shape_str(x.sizes()),
               " and weight ", shape_str(weight.sizes()), ": expected input [N, ", in_channels,
               ", H, W]");
  return conv2d((*input_quant)(x), (*weight_quant)(weight), bias, options);
}

std::string QuantConv2d::extra_repr() const {
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", kernel_size=(" << kernel_size[0] << ", "
     << kernel_size[1] << "), bits=" << weight_quant->bits;
  return os.str();
}

QuantLinear::QuantLinear(const Linear& linear, int bits, const QuantConfig& config)
    : in_features(linear.in_features), out_features(linear.out_features) {
  weight = register_parameter("weight", linear.weight, linear.weight.requires_grad());
  if (linear.bias.defined())
    bias = register_parameter("bias", linear.bias, linear.bias.requires_grad());
  input_quant = register_module("input_quant", input_quantizer(weight, bits, config));
  weight_quant = register_module("weight_quant", weight_quantizer(weight, bits, config));
  train(linear.is_training());
}

Tensor QuantLinear::forward(const Tensor& x) {
  RETORT_CHECK(x.dim() >= 1 && x.size(-1) == in_features, "QuantLinear: input ", shape_str(x.sizes()),
               " and weight ", shape_str(weight.sizes()), ": last input dim must be in_features=",
               in_features);
  return linear((*input_quant)(x), (*weight_quant)(weight), bias);
}

std::string QuantLinear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features << ", out_features=" << out_features
     << ", bits=" << weight_quant->bits;
  return os.str();
}

std::vector<std::string> quantize_aware(Module& model, const QuantConfig& config) {
  check_config(config);
  // Exact types: a subclass of Conv2d / Linear may compute something else.
  std::vector<std::string> paths;
  for (const auto& [path, m] : model.named_modules()) {
    const Module& layer = *m;
    if (typeid(layer) == typeid(Conv2d) || typeid(layer) == typeid(Linear)) paths.push_back(path);
  }
  RETORT_CHECK(!paths.empty(), "quantize_aware: ", model.type_name(), " has no Conv2d or Linear");

  // Check every layer before converting any, so a refused model is left as it was.
  struct Slot {
    std::shared_ptr<Module> parent;
    std::string name;
  };
  std::vector<Slot> slots;
  for (const auto& path : paths) {
    auto dot = path.rfind('.');
    Slot s{dot == std::string::npos ? model.shared_from_this() : model.submodule(path.substr(0, dot)),
           dot == std::string::npos ? path : path.substr(dot + 1)};
    for (const auto& [n, c] : s.parent->named_children()) {
      if (n != s.name) continue;
      // The child list's own reference is the only one unless a member (or a caller) keeps one.
      RETORT_CHECK(c.use_count() == 1, "quantize_aware: layer '", path,
                   "' is also held outside its parent's child list (a model member or another "
                   "handle); the model would keep calling the float layer there");
      RETORT_CHECK(!c->has_forward_hooks(), "quantize_aware: layer '", path,
                   "' has forward hooks or taps; convert the model before tapping it");
    }
    slots.push_back(std::move(s));
  }

  for (std::size_t i = 0; i < slots.size(); ++i) {
    bool end = i == 0 || i + 1 == slots.size();
    int bits = end && config.first_last_bits != 0 ? config.first_last_bits : config.bits;
    Module& parent = *slots[i].parent;
    std::shared_ptr<Module> layer;
    for (const auto& [n, c] : parent.named_children())
      if (n == slots[i].name) layer = c;
    std::shared_ptr<Module> q;
    if (auto* conv = dynamic_cast<Conv2d*>(layer.get()))
      q = std::make_shared<QuantConv2d>(*conv, bits, config);
    else
      q = std::make_shared<QuantLinear>(static_cast<Linear&>(*layer), bits, config);
    parent.replace_module(slots[i].name, q);
  }
  return paths;
}

}  // namespace retort::nn
