// ShuffleNetV1 of RepDistiller. Modules are registered in RepDistiller's order (conv1, bn1,
// layer1..3, linear; per Bottleneck conv1, bn1, conv2, bn2, conv3, bn3, shortcut), so
// state-dict keys and order equal PyTorch's. RepDistiller applies its ReLUs and pools
// functionally; only the ones a feature is read from are modules here ("relu", "flatten" and
// each stage's last "preact"), all parameter-free.
#include "nn/shufflenetv1.h"

#include <string>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "tensor/error.h"
#include "tensor/shape.h"

namespace retort::nn {

Tensor channel_shuffle(const Tensor& x, std::int64_t groups) {
  RETORT_CHECK(x.dim() == 4 && groups >= 1 && x.size(1) % groups == 0,
               "channel_shuffle: x must be [N, C, H, W] with C divisible by groups ", groups,
               ", got ", shape_str(x.sizes()));
  if (groups == 1) return x;
  std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return reshape(transpose(view(x, {n, groups, c / groups, h, w}), 1, 2), {n, c, h, w});
}

Tensor cat_shuffle(const std::vector<Tensor>& xs) {
  RETORT_CHECK(!xs.empty() && xs[0].defined() && xs[0].dim() == 4,
               "cat_shuffle: expected [N, C, H, W] tensors");
  const Shape& s = xs[0].sizes();
  const auto g = static_cast<std::int64_t>(xs.size());
  // stack checks that every tensor has xs[0]'s shape, dtype and device.
  return reshape(stack(xs, 2), {s[0], g * s[1], s[2], s[3]});
}

namespace {

class Bottleneck : public Module {
 public:
  Bottleneck(std::int64_t in, std::int64_t out, std::int64_t stride, std::int64_t groups,
             bool is_last)
      : stride_(stride), g1_(in == 24 ? 1 : groups) {
    std::int64_t mid = out / 4;
    conv1_ = register_module("conv1", std::make_shared<Conv2d>(in, mid, 1, 1, 0, 1, g1_, false));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(mid));
    conv2_ = register_module("conv2",
                             std::make_shared<Conv2d>(mid, mid, 3, stride, 1, 1, mid, false));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(mid));
    conv3_ = register_module("conv3",
                             std::make_shared<Conv2d>(mid, out, 1, 1, 0, 1, groups, false));
    bn3_ = register_module("bn3", std::make_shared<BatchNorm2d>(out));
    shortcut_ = register_module("shortcut", std::make_shared<Sequential>());
    if (stride == 2) shortcut_->push_back(std::make_shared<AvgPool2d>(3, 2, 1));
    if (is_last) preact_ = register_module("preact", std::make_shared<Identity>());
  }

  Tensor forward(const Tensor& x) override {
    Tensor out = channel_shuffle(bn_relu(*bn1_, (*conv1_)(x)), g1_);
    out = bn_relu(*bn2_, (*conv2_)(out));
    out = (*bn3_)((*conv3_)(out));
    Tensor res = (*shortcut_)(x);
    Tensor pre = stride_ == 2 ? cat({out, res}, 1) : out + res;
    if (preact_) pre = (*preact_)(pre);
    return relu(pre);
  }
  std::string type_name() const override { return "Bottleneck"; }

 private:
  std::int64_t stride_, g1_;
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<BatchNorm2d> bn1_, bn2_, bn3_;
  std::shared_ptr<Sequential> shortcut_;
  std::shared_ptr<Identity> preact_;
};

class ShuffleNetV1 : public ZooNet {
 public:
  explicit ShuffleNetV1(std::int64_t num_classes) {
    num_classes_ = num_classes;
    const std::int64_t out_planes[] = {240, 480, 960}, num_blocks[] = {4, 8, 4}, groups = 3;
    conv1_ = register_module("conv1", std::make_shared<Conv2d>(3, 24, 1, 1, 0, 1, 1, false));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(24));
    std::int64_t in = 24;
    for (int s = 0; s < 3; ++s) {
      auto layer = std::make_shared<Sequential>();
      for (std::int64_t i = 0; i < num_blocks[s]; ++i) {
        std::int64_t cat_planes = i == 0 ? in : 0;
        layer->push_back(std::make_shared<Bottleneck>(in, out_planes[s] - cat_planes,
                                                      i == 0 ? 2 : 1, groups,
                                                      i == num_blocks[s] - 1));
        in = out_planes[s];
      }
      layers_[s] = register_module("layer" + std::to_string(s + 1), layer);
      last_[s] = static_cast<int>(num_blocks[s] - 1);
    }
    linear_ = register_module("linear", std::make_shared<Linear>(in, num_classes));
    relu_ = register_module("relu", std::make_shared<ReLU>());
    flatten_ = register_module("flatten", std::make_shared<Flatten>());
  }

  Tensor forward(const Tensor& x) override {
    Tensor out = bn_relu(*bn1_, (*conv1_)(x), relu_.get());
    for (auto& layer : layers_) out = (*layer)(out);
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
  std::string type_name() const override { return "ShuffleNetV1"; }

 private:
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::shared_ptr<Sequential> layers_[3];
  int last_[3] = {};
  std::shared_ptr<Linear> linear_;
  std::shared_ptr<ReLU> relu_;
  std::shared_ptr<Flatten> flatten_;
};

}  // namespace

std::shared_ptr<ZooNet> make_shufflenet_v1(std::int64_t num_classes) {
  return std::make_shared<ShuffleNetV1>(num_classes);
}

}  // namespace retort::nn
