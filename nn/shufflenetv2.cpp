// ShuffleNetV2 of RepDistiller. Modules are registered in RepDistiller's order (conv1, bn1,
// layer1..3, conv2, bn2, linear; per block conv1, bn1, conv2, bn2, …), so state-dict keys and
// order equal PyTorch's. RepDistiller's split and shuffle modules hold nothing; here they are
// narrow and channel_shuffle (nn/shufflenetv1.h). Only the points a feature is read from are
// extra modules ("relu", "flatten", each stage's last "preact"), all parameter-free.
#include "nn/shufflenetv2.h"

#include <string>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/linear.h"
#include "nn/shufflenetv1.h"

namespace retort::nn {

namespace {

std::shared_ptr<Conv2d> conv1x1(std::int64_t in, std::int64_t out) {
  return std::make_shared<Conv2d>(in, out, 1, 1, 0, 1, 1, false);
}

std::shared_ptr<Conv2d> dwconv3x3(std::int64_t c, std::int64_t stride) {
  return std::make_shared<Conv2d>(c, c, 3, stride, 1, 1, /*groups=*/c, false);
}

class BasicBlock : public Module {
 public:
  BasicBlock(std::int64_t channels, bool is_last) : c_(channels / 2) {
    conv1_ = register_module("conv1", conv1x1(c_, c_));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(c_));
    conv2_ = register_module("conv2", dwconv3x3(c_, 1));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(c_));
    conv3_ = register_module("conv3", conv1x1(c_, c_));
    bn3_ = register_module("bn3", std::make_shared<BatchNorm2d>(c_));
    if (is_last) preact_ = register_module("preact", std::make_shared<Identity>());
  }

  Tensor forward(const Tensor& x) override {
    // RepDistiller splits at int(C · 0.5): x1 keeps the first c channels.
    std::int64_t c = x.size(1) / 2;
    Tensor x1 = narrow(x, 1, 0, c), x2 = narrow(x, 1, c, x.size(1) - c);
    Tensor out = bn_relu(*bn1_, (*conv1_)(x2));
    out = (*bn2_)((*conv2_)(out));
    // The pre-activation feature exists only for a tap to read: no copy unless one is there.
    if (preact_ && preact_->has_forward_hooks()) {
      Tensor pre = (*bn3_)((*conv3_)(out));
      (*preact_)(cat({x1, pre}, 1));
      return cat_shuffle({x1, relu(pre)});
    }
    return cat_shuffle({x1, bn_relu(*bn3_, (*conv3_)(out))});
  }
  std::string type_name() const override { return "BasicBlock"; }

 private:
  std::int64_t c_;
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<Identity> preact_;
};

class DownBlock : public Module {
 public:
  DownBlock(std::int64_t in, std::int64_t out) {
    std::int64_t mid = out / 2;
    conv1_ = register_module("conv1", dwconv3x3(in, 2));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(in));
    conv2_ = register_module("conv2", conv1x1(in, mid));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(mid));
    conv3_ = register_module("conv3", conv1x1(in, mid));
    bn3_ = register_module("bn3", std::make_shared<BatchNorm2d>(mid));
    conv4_ = register_module("conv4", dwconv3x3(mid, 2));
    bn4_ = register_module("bn4", std::make_shared<BatchNorm2d>(mid));
    conv5_ = register_module("conv5", conv1x1(mid, mid));
    bn5_ = register_module("bn5", std::make_shared<BatchNorm2d>(mid));
  }

  Tensor forward(const Tensor& x) override {
    Tensor left = bn_relu(*bn2_, (*conv2_)((*bn1_)((*conv1_)(x))));
    Tensor right = bn_relu(*bn3_, (*conv3_)(x));
    right = bn_relu(*bn5_, (*conv5_)((*bn4_)((*conv4_)(right))));
    return cat_shuffle({left, right});
  }
  std::string type_name() const override { return "DownBlock"; }

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_, conv4_, conv5_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_, bn4_, bn5_;
};

class ShuffleNetV2 : public ZooNet {
 public:
  explicit ShuffleNetV2(std::int64_t num_classes) {
    num_classes_ = num_classes;
    const std::int64_t out_channels[] = {116, 232, 464, 1024}, num_blocks[] = {3, 7, 3};
    conv1_ = register_module("conv1", conv1x1(3, 24));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(24));
    std::int64_t in = 24;
    for (int s = 0; s < 3; ++s) {
      auto layer = make_sequential(std::make_shared<DownBlock>(in, out_channels[s]));
      for (std::int64_t i = 0; i < num_blocks[s]; ++i)
        layer->push_back(std::make_shared<BasicBlock>(out_channels[s], i == num_blocks[s] - 1));
      in = out_channels[s];
      layers_[s] = register_module("layer" + std::to_string(s + 1), layer);
      last_[s] = static_cast<int>(num_blocks[s]);
    }
    conv2_ = register_module("conv2", conv1x1(in, out_channels[3]));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(out_channels[3]));
    linear_ = register_module("linear", std::make_shared<Linear>(out_channels[3], num_classes));
    relu_ = register_module("relu", std::make_shared<ReLU>());
    flatten_ = register_module("flatten", std::make_shared<Flatten>());
  }

  Tensor forward(const Tensor& x) override {
    Tensor out = bn_relu(*bn1_, (*conv1_)(x), relu_.get());
    for (auto& layer : layers_) out = (*layer)(out);
    out = bn_relu(*bn2_, (*conv2_)(out));
    return (*linear_)((*flatten_)(avg_pool2d(out, {4, 4})));
  }

  std::vector<std::string> feature_taps(bool preact) const override {
    std::vector<std::string> taps{"relu"};
    for (int s = 0; s < 3; ++s) {
      std::string layer = "layer" + std::to_string(s + 1);
      taps.push_back(preact ? layer + "." + std::to_string(last_[s]) + ".preact" : layer);
    }
    taps.push_back("flatten");
    return taps;
  }
  std::string type_name() const override { return "ShuffleNetV2"; }

 private:
  std::shared_ptr<Conv2d> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_;
  std::shared_ptr<Sequential> layers_[3];
  int last_[3] = {};
  std::shared_ptr<Linear> linear_;
  std::shared_ptr<ReLU> relu_;
  std::shared_ptr<Flatten> flatten_;
};

}  // namespace

std::shared_ptr<ZooNet> make_shufflenet_v2(std::int64_t num_classes) {
  return std::make_shared<ShuffleNetV2>(num_classes);
}

}  // namespace retort::nn
