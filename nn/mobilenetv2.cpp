// MobileNetV2 of RepDistiller. Modules are registered in RepDistiller's order (conv1, blocks,
// conv2, classifier, then the parameter-free avgpool and flatten), so state-dict keys and order
// equal PyTorch's; the Sequential children keep RepDistiller's indices (conv.0 … conv.7).
#include "nn/mobilenetv2.h"

#include <cmath>
#include <string>

#include "autograd/ops/elementwise.h"
#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "tensor/error.h"
#include "tensor/shape.h"

namespace retort::nn {

namespace {

std::shared_ptr<Sequential> conv_bn_relu(std::int64_t in, std::int64_t out, std::int64_t k,
                                         std::int64_t stride) {
  return make_sequential(
      std::make_shared<Conv2d>(in, out, k, stride, k / 2, 1, 1, /*bias=*/false),
      std::make_shared<BatchNorm2d>(out), std::make_shared<ReLU>());
}

class InvertedResidual : public Module {
 public:
  InvertedResidual(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t t)
      : use_res_(stride == 1 && in == out) {
    std::int64_t mid = in * t;
    conv_ = register_module(
        "conv",
        make_sequential(
            std::make_shared<Conv2d>(in, mid, 1, 1, 0, 1, 1, false),
            std::make_shared<BatchNorm2d>(mid), std::make_shared<ReLU>(),
            std::make_shared<Conv2d>(mid, mid, 3, stride, 1, 1, /*groups=*/mid, false),
            std::make_shared<BatchNorm2d>(mid), std::make_shared<ReLU>(),
            std::make_shared<Conv2d>(mid, out, 1, 1, 0, 1, 1, false),
            std::make_shared<BatchNorm2d>(out)));
  }
  Tensor forward(const Tensor& x) override {
    return use_res_ ? x + (*conv_)(x) : (*conv_)(x);
  }
  std::string type_name() const override { return "InvertedResidual"; }

 private:
  bool use_res_;
  std::shared_ptr<Sequential> conv_;
};

class MobileNetV2 : public ZooNet {
 public:
  MobileNetV2(std::int64_t t, double w, std::int64_t num_classes) {
    num_classes_ = num_classes;
    struct Stage {
      std::int64_t t, c, n, s;
    };
    const Stage stages[] = {{1, 16, 1, 1}, {t, 24, 2, 1}, {t, 32, 3, 2}, {t, 64, 4, 2},
                            {t, 96, 3, 1}, {t, 160, 3, 2}, {t, 320, 1, 1}};
    auto in = static_cast<std::int64_t>(32 * w);
    conv1_ = register_module("conv1", conv_bn_relu(3, in, 3, 2));
    blocks_ = register_module("blocks", std::make_shared<Sequential>());
    for (const auto& st : stages) {
      auto out = static_cast<std::int64_t>(static_cast<double>(st.c) * w);
      auto stage = std::make_shared<Sequential>();
      for (std::int64_t i = 0; i < st.n; ++i) {
        stage->push_back(std::make_shared<InvertedResidual>(in, out, i == 0 ? st.s : 1, st.t));
        in = out;
      }
      blocks_->push_back(stage);
    }
    std::int64_t last = w > 1.0 ? static_cast<std::int64_t>(1280 * w) : 1280;
    conv2_ = register_module("conv2", conv_bn_relu(in, last, 1, 1));
    classifier_ = register_module(
        "classifier", make_sequential(std::make_shared<Linear>(last, num_classes)));
    avgpool_ = register_module("avgpool", std::make_shared<AvgPool2d>(2));
    flatten_ = register_module("flatten", std::make_shared<Flatten>());
    initialize_weights();
  }

  Tensor forward(const Tensor& x) override {
    RETORT_CHECK(x.dim() == 4 && x.size(2) == 32 && x.size(3) == 32,
                 "MobileNetV2: input must be [N, 3, 32, 32] (RepDistiller's fixed 2×2 pool), got ",
                 shape_str(x.sizes()));
    Tensor out = (*conv1_)(x);
    for (std::size_t i = 0; i < blocks_->size(); ++i) out = (*(*blocks_)[i])(out);
    out = (*flatten_)((*avgpool_)((*conv2_)(out)));
    return (*classifier_)(out);
  }

  std::vector<std::string> feature_taps(bool /*preact: no effect in RepDistiller*/) const override {
    return {"conv1", "blocks.1", "blocks.2", "blocks.4", "blocks.6", "flatten"};
  }
  std::string type_name() const override { return "MobileNetV2"; }

 private:
  // RepDistiller's _initialize_weights (BatchNorm's defaults are already weight 1, bias 0).
  void initialize_weights() {
    for (auto& [name, m] : named_modules()) {
      if (auto c = std::dynamic_pointer_cast<Conv2d>(m)) {
        double n = static_cast<double>(c->kernel_size[0] * c->kernel_size[1] * c->out_channels);
        init::normal_(c->weight, 0.0, std::sqrt(2.0 / n));
      } else if (auto l = std::dynamic_pointer_cast<Linear>(m)) {
        init::normal_(l->weight, 0.0, 0.01);
        init::zeros_(l->bias);
      }
    }
  }

  std::shared_ptr<Sequential> conv1_, blocks_, conv2_, classifier_;
  std::shared_ptr<AvgPool2d> avgpool_;
  std::shared_ptr<Flatten> flatten_;
};

}  // namespace

std::shared_ptr<ZooNet> make_mobilenetv2(std::int64_t expansion, double width_mult,
                                         std::int64_t num_classes) {
  RETORT_CHECK(expansion >= 1 && width_mult > 0, "make_mobilenetv2: expansion must be >= 1 and "
               "width_mult > 0, got ", expansion, " and ", width_mult);
  return std::make_shared<MobileNetV2>(expansion, width_mult, num_classes);
}

}  // namespace retort::nn
