// The WideResNet (see wrn.h). Children are registered in the order RepDistiller's __init__ assigns
// them, so state_dict() walks the same keys in the same order. RepDistiller's pooling and flatten
// are functional calls; here they are parameter-free children so the embedding can be tapped.
#include "nn/wrn.h"

#include <cmath>
#include <string>

#include "autograd/ops/elementwise.h"
#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "tensor/error.h"

namespace retort::nn {

namespace {

std::shared_ptr<Conv2d> conv(std::int64_t in, std::int64_t out, std::int64_t k,
                             std::int64_t stride) {
  return std::make_shared<Conv2d>(in, out, k, stride, /*padding=*/k / 2, /*dilation=*/1,
                                  /*groups=*/1, /*bias=*/false);
}

class WrnBlock : public Module {
 public:
  WrnBlock(std::int64_t in, std::int64_t out, std::int64_t stride) : equal_in_out_(in == out) {
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(in));
    relu1 = register_module("relu1", std::make_shared<ReLU>());
    conv1 = register_module("conv1", conv(in, out, 3, stride));
    bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(out));
    relu2 = register_module("relu2", std::make_shared<ReLU>());
    conv2 = register_module("conv2", conv(out, out, 3, 1));
    if (!equal_in_out_) shortcut = register_module("convShortcut", conv(in, out, 1, stride));
  }

  // x [N, in, H, W] → [N, out, H/stride, W/stride]. With in = out the shortcut is x itself (the
  // stride is then 1 in every WRN), otherwise the 1×1 conv of the activated input.
  Tensor forward(const Tensor& x) override {
    Tensor a = bn_relu(*bn1, x, relu1.get());
    Tensor out = (*conv2)(bn_relu(*bn2, (*conv1)(a), relu2.get()));
    return (equal_in_out_ ? x : (*shortcut)(a)) + out;
  }
  std::string type_name() const override { return "BasicBlock"; }

 private:
  bool equal_in_out_;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<ReLU> relu1, relu2;
  std::shared_ptr<Conv2d> conv1, conv2, shortcut;
};

// RepDistiller's NetworkBlock: a Sequential under the name "layer".
class NetworkBlock : public Module {
 public:
  NetworkBlock(std::int64_t n, std::int64_t in, std::int64_t out, std::int64_t stride) {
    layer = register_module("layer", std::make_shared<Sequential>());
    for (std::int64_t i = 0; i < n; ++i)
      layer->push_back(std::make_shared<WrnBlock>(i == 0 ? in : out, out, i == 0 ? stride : 1));
  }
  Tensor forward(const Tensor& x) override { return (*layer)(x); }
  std::string type_name() const override { return "NetworkBlock"; }

  std::shared_ptr<Sequential> layer;
};

class WideResNet : public ZooNet {
 public:
  WideResNet(std::int64_t depth, std::int64_t w, std::int64_t classes) {
    num_classes_ = classes;
    std::int64_t n = (depth - 4) / 6, c0 = 16, c1 = 16 * w, c2 = 32 * w, c3 = 64 * w;
    conv1 = register_module("conv1", conv(3, c0, 3, 1));
    block1 = register_module("block1", std::make_shared<NetworkBlock>(n, c0, c1, 1));
    block2 = register_module("block2", std::make_shared<NetworkBlock>(n, c1, c2, 2));
    block3 = register_module("block3", std::make_shared<NetworkBlock>(n, c2, c3, 2));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(c3));
    relu = register_module("relu", std::make_shared<ReLU>());
    avgpool = register_module("avgpool", std::make_shared<AvgPool2d>(8));
    flatten = register_module("flatten", std::make_shared<Flatten>(1));
    fc = register_module("fc", std::make_shared<Linear>(c3, classes));
    for (auto& [name, m] : named_modules()) {
      if (auto* c = dynamic_cast<Conv2d*>(m.get()))
        init::kaiming_normal_(c->weight, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
    }
    init::zeros_(fc->bias);
  }

  Tensor forward(const Tensor& x) override {
    Tensor h = (*block3)((*block2)((*block1)((*conv1)(x))));
    return (*fc)((*flatten)((*avgpool)(bn_relu(*bn1, h, relu.get()))));
  }

  std::vector<std::string> feature_taps(bool preact) const override {
    if (!preact) return {"conv1", "block1", "block2", "block3", "flatten"};
    return {"conv1", "block2.layer.0.bn1", "block3.layer.0.bn1", "bn1", "flatten"};
  }
  std::string type_name() const override { return "WideResNet"; }

 private:
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<NetworkBlock> block1, block2, block3;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<ReLU> relu;
  std::shared_ptr<AvgPool2d> avgpool;
  std::shared_ptr<Flatten> flatten;
  std::shared_ptr<Linear> fc;
};

}  // namespace

std::shared_ptr<ZooNet> make_wrn(std::int64_t depth, std::int64_t widen_factor,
                                 std::int64_t num_classes) {
  RETORT_CHECK(depth >= 10 && (depth - 4) % 6 == 0,
               "make_wrn: depth must be 6n+4 with n >= 1 (10, 16, 22, …, 40), got ", depth);
  RETORT_CHECK(widen_factor >= 1, "make_wrn: widen_factor must be >= 1, got ", widen_factor);
  return std::make_shared<WideResNet>(depth, widen_factor, num_classes);
}

}  // namespace retort::nn
