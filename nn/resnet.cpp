// The CIFAR ResNet (see resnet.h). Children are registered in the order RepDistiller's __init__
// assigns them, so state_dict() walks the same keys in the same order; the extra parameter-free
// children exist only so that every feature of RepDistiller's list is a module output and can be
// tapped without changing the forward pass.
#include "nn/resnet.h"

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

std::shared_ptr<Conv2d> conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return std::make_shared<Conv2d>(in, out, 3, stride, /*padding=*/1, /*dilation=*/1,
                                  /*groups=*/1, /*bias=*/false);
}

class BasicBlock : public Module {
 public:
  BasicBlock(std::int64_t in, std::int64_t out, std::int64_t stride) {
    conv1 = register_module("conv1", conv3x3(in, out, stride));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(out));
    relu = register_module("relu", std::make_shared<ReLU>());
    conv2 = register_module("conv2", conv3x3(out, out, 1));
    bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(out));
    if (stride != 1 || in != out)
      downsample = register_module(
          "downsample",
          make_sequential(std::make_shared<Conv2d>(in, out, 1, stride, 0, 1, 1, /*bias=*/false),
                          std::make_shared<BatchNorm2d>(out)));
    preact = register_module("preact", std::make_shared<Identity>());
  }

  // x [N, in, H, W] → [N, out, H/stride, W/stride].
  Tensor forward(const Tensor& x) override {
    Tensor out = (*bn2)((*conv2)(bn_relu(*bn1, (*conv1)(x), relu.get())));
    Tensor residual = downsample ? (*downsample)(x) : x;
    // RepDistiller's final ReLU is F.relu (no module); the tappable point is the sum before it,
    // so the sum and the relu are one op unless a tap reads the sum.
    if (!preact->has_forward_hooks()) return add_relu(out, residual);
    return retort::relu((*preact)(out + residual));
  }
  std::string type_name() const override { return "BasicBlock"; }

 private:
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<ReLU> relu;
  std::shared_ptr<Sequential> downsample;
  std::shared_ptr<Identity> preact;
};

class CifarResNet : public ZooNet {
 public:
  CifarResNet(std::int64_t depth, const std::vector<std::int64_t>& f, std::int64_t classes)
      : blocks_((depth - 2) / 6) {
    num_classes_ = classes;
    conv1 = register_module("conv1", conv3x3(3, f[0], 1));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(f[0]));
    relu = register_module("relu", std::make_shared<ReLU>());
    std::int64_t in = f[0];
    layer1 = register_module("layer1", make_layer(in, f[1], 1));
    layer2 = register_module("layer2", make_layer(in, f[2], 2));
    layer3 = register_module("layer3", make_layer(in, f[3], 2));
    avgpool = register_module("avgpool", std::make_shared<AvgPool2d>(8));
    flatten = register_module("flatten", std::make_shared<Flatten>(1));
    fc = register_module("fc", std::make_shared<Linear>(f[3], classes));
    for (auto& [name, m] : named_modules()) {
      if (auto* c = dynamic_cast<Conv2d*>(m.get()))
        init::kaiming_normal_(c->weight, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
    }
  }

  Tensor forward(const Tensor& x) override {
    Tensor h = bn_relu(*bn1, (*conv1)(x), relu.get());
    h = (*layer3)((*layer2)((*layer1)(h)));
    return (*fc)((*flatten)((*avgpool)(h)));
  }

  std::vector<std::string> feature_taps(bool preact) const override {
    if (!preact) return {"relu", "layer1", "layer2", "layer3", "flatten"};
    std::string last = "." + std::to_string(blocks_ - 1) + ".preact";
    return {"relu", "layer1" + last, "layer2" + last, "layer3" + last, "flatten"};
  }
  std::string type_name() const override { return "ResNet"; }

 private:
  // Blocks in→out (the first with the given stride), advancing in to out like _make_layer.
  std::shared_ptr<Sequential> make_layer(std::int64_t& in, std::int64_t out, std::int64_t stride) {
    auto seq = std::make_shared<Sequential>();
    seq->push_back(std::make_shared<BasicBlock>(in, out, stride));
    in = out;
    for (std::int64_t i = 1; i < blocks_; ++i)
      seq->push_back(std::make_shared<BasicBlock>(in, out, 1));
    return seq;
  }

  std::int64_t blocks_;
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<ReLU> relu;
  std::shared_ptr<Sequential> layer1, layer2, layer3;
  std::shared_ptr<AvgPool2d> avgpool;
  std::shared_ptr<Flatten> flatten;
  std::shared_ptr<Linear> fc;
};

}  // namespace

std::shared_ptr<ZooNet> make_cifar_resnet(std::int64_t depth,
                                          const std::vector<std::int64_t>& filters,
                                          std::int64_t num_classes) {
  RETORT_CHECK(depth >= 8 && (depth - 2) % 6 == 0,
               "make_cifar_resnet: depth must be 6n+2 with n >= 1 (8, 14, 20, …), got ", depth);
  RETORT_CHECK(filters.size() == 4, "make_cifar_resnet: filters must hold 4 widths, got ",
               filters.size());
  for (auto w : filters)
    RETORT_CHECK(w >= 1, "make_cifar_resnet: filter widths must be >= 1, got ", w);
  return std::make_shared<CifarResNet>(depth, filters, num_classes);
}

}  // namespace retort::nn
