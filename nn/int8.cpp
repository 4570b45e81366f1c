// Int8Model (see int8.h): conversion of QAT layers into integer layers, and the forward that
// quantises each converted layer's input on the fly.
#include "nn/int8.h"

#include <cmath>
#include <sstream>
#include <typeinfo>

#include "autograd/grad_mode.h"
#include "nn/basic.h"
#include "nn/pooling.h"
#include "nn/quant.h"

namespace retort::nn {
namespace {

// The integer weights w_q [OC, ...] of a layer's weight quantiser, after refreshing it on the
// current weights (an observer's scale follows the weight; an LSQ step does not change).
std::vector<std::int8_t> quantised_weight(FakeQuantize& q, const Tensor& weight, std::vector<float>& scales) {
  q(weight);
  Tensor s = q.scale().contiguous().to(kFloat32);
  QuantRange r = q.range();
  RETORT_CHECK(r.qmin >= -128 && r.qmax <= 127, "Int8Model: weight grid [", r.qmin, ", ", r.qmax,
               "] does not fit int8");
  auto sv = s.to_vector<float>();
  auto wv = weight.contiguous().to(kFloat32).to_vector<float>();
  const std::size_t oc = static_cast<std::size_t>(weight.size(0)), per = wv.size() / oc;
  std::vector<std::int8_t> out(wv.size());
  for (std::size_t o = 0; o < oc; ++o) {
    float so = sv.size() == 1 ? sv[0] : sv[o];
    scales.push_back(so);
    for (std::size_t i = 0; i < per; ++i) {
      float v = std::nearbyint(wv[o * per + i] / so);
      out[o * per + i] = static_cast<std::int8_t>(std::min<float>(std::max<float>(v, r.qmin), r.qmax));
    }
  }
  return out;
}

}  // namespace

Int8Model::Int8Model(const std::vector<std::shared_ptr<Module>>& chain) {
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    Module& m = *chain[i];
    Step s;
    std::shared_ptr<FakeQuantize> in_q, w_q;
    Tensor weight, bias;
    if (auto* c = dynamic_cast<QuantConv2d*>(&m)) {
      RETORT_CHECK(c->options.groups == 1 && c->options.dilation[0] == 1 && c->options.dilation[1] == 1,
                   "Int8Model: ", c->repr(), ": only groups = 1 and dilation 1 run in int8");
      s.kind = Step::Kind::Conv;
      s.layer.in_channels = c->in_channels;
      s.layer.kernel_h = c->kernel_size[0];
      s.layer.kernel_w = c->kernel_size[1];
      s.layer.stride_h = c->options.stride[0];
      s.layer.stride_w = c->options.stride[1];
      s.pad_h = c->options.padding[0];
      s.pad_w = c->options.padding[1];
      in_q = c->input_quant, w_q = c->weight_quant, weight = c->weight, bias = c->bias;
    } else if (auto* l = dynamic_cast<QuantLinear*>(&m)) {
      s.kind = Step::Kind::Linear;
      s.layer.in_channels = l->in_features;
      in_q = l->input_quant, w_q = l->weight_quant, weight = l->weight, bias = l->bias;
    } else {
      const auto& t = typeid(m);
      RETORT_CHECK(t == typeid(ReLU) || t == typeid(MaxPool2d) || t == typeid(Flatten) || t == typeid(Dropout) ||
                       t == typeid(Identity),
                   "Int8Model: cannot run ", m.type_name(), " (convert with quantize_aware first; supported: "
                   "QuantConv2d, QuantLinear, ReLU, MaxPool2d, Flatten, Dropout, Identity)");
      s.kind = Step::Kind::Float;
      s.module = chain[i];
      s.name = m.type_name();
      steps_.push_back(std::move(s));
      continue;
    }
    QuantRange r = in_q->range();
    RETORT_CHECK(r.qmax - r.qmin <= 255, "Int8Model: input grid [", r.qmin, ", ", r.qmax, "] does not fit u8");
    s.in_scale = in_q->scale().to(kFloat32).item<float>();
    s.in_zero = in_q->zero_point().to(kFloat32).item<float>();
    s.qmin = r.qmin;
    s.qmax = r.qmax;
    s.layer.out_channels = weight.size(0);
    std::vector<float> ws;
    s.layer.weight = quantised_weight(*w_q, weight, ws);
    auto bv = bias.defined() ? bias.to(kFloat32).to_vector<float>() : std::vector<float>(ws.size(), 0.0f);
    const float z = s.in_zero - static_cast<float>(s.qmin);  // z' on the u8 grid
    const std::size_t per = s.layer.weight.size() / ws.size();
    for (std::size_t o = 0; o < ws.size(); ++o) {
      std::int64_t wsum = 0;
      for (std::size_t k = 0; k < per; ++k) wsum += s.layer.weight[o * per + k];
      float sc = s.in_scale * ws[o];
      s.layer.scale.push_back(sc);
      s.layer.bias.push_back(bv[o] - sc * z * static_cast<float>(wsum));
    }
    // A ReLU right after the layer becomes its post-op.
    if (i + 1 < chain.size()) {
      const Module& next = *chain[i + 1];
      s.layer.relu = typeid(next) == typeid(ReLU);
    }
    if (s.layer.relu) ++i;
    ops::check_int8_layer(s.layer, "Int8Model");
    std::ostringstream os;
    os << "int8 " << (s.kind == Step::Kind::Conv ? "conv " : "linear ") << s.layer.in_channels << "→"
       << s.layer.out_channels;
    if (s.kind == Step::Kind::Conv) os << " k" << s.layer.kernel_h << " p" << s.pad_h;
    os << " (input " << w_q->bits << "-bit grid [" << s.qmin << ", " << s.qmax << "])" << (s.layer.relu ? " + relu" : "");
    s.name = os.str();
    steps_.push_back(std::move(s));
  }
  RETORT_CHECK(!steps_.empty(), "Int8Model: empty chain");
}

Int8Model Int8Model::from_sequentials(const Module& features, const Module& classifier) {
  std::vector<std::shared_ptr<Module>> chain = features.children();
  chain.push_back(std::make_shared<Flatten>());
  for (const auto& c : classifier.children()) chain.push_back(c);
  return Int8Model(chain);
}

Tensor Int8Model::forward(const Tensor& input) const {
  NoGradGuard no_grad;
  Tensor x = input;
  for (const Step& s : steps_) {
    if (s.kind == Step::Kind::Float) {
      s.module->eval();
      x = (*s.module)(x);
      continue;
    }
    if (s.kind == Step::Kind::Linear) {
      RETORT_CHECK(x.dim() == 2 && x.size(1) == s.layer.in_channels, "Int8Model: ", s.name, ": input ",
                   shape_str(x.sizes()), " is not [N, ", s.layer.in_channels, "]");
      x = ops::int8_linear(ops::quantize_u8(x, s.in_scale, s.in_zero, s.qmin, s.qmax), x.size(0), s.layer);
      continue;
    }
    RETORT_CHECK(x.dim() == 4 && x.size(1) == s.layer.in_channels, "Int8Model: ", s.name, ": input ",
                 shape_str(x.sizes()), " is not [N, ", s.layer.in_channels, ", H, W]");
    // NCHW float → padded NHWC u8, the padding holding z' (a real 0).
    const std::int64_t n = x.size(0), hp = x.size(2) + 2 * s.pad_h, wp = x.size(3) + 2 * s.pad_w;
    auto q = ops::quantize_u8(x, s.in_scale, s.in_zero, s.qmin, s.qmax, s.pad_h, s.pad_w);
    x = ops::int8_conv2d(q, n, hp, wp, s.layer);
  }
  return x;
}

std::string Int8Model::summary() const {
  std::string out;
  for (const Step& s : steps_) out += s.name + "\n";
  return out;
}

}  // namespace retort::nn
