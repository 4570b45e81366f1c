// The CIFAR VGG with BatchNorm (see vgg.h). Children are registered in the order RepDistiller's
// __init__ assigns them (blocks, pools, classifier), so state_dict() walks the same keys in the
// same order; the ReLUs RepDistiller applies functionally after each block are parameter-free
// children here so each stage's post-ReLU feature can be tapped.
#include "nn/vgg.h"

#include <array>
#include <string>

#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "tensor/error.h"

namespace retort::nn {

namespace {

using Config = std::array<std::vector<std::int64_t>, 5>;

Config config(std::int64_t depth) {
  switch (depth) {
    case 8: return {{{64}, {128}, {256}, {512}, {512}}};
    case 11: return {{{64}, {128}, {256, 256}, {512, 512}, {512, 512}}};
    case 13: return {{{64, 64}, {128, 128}, {256, 256}, {512, 512}, {512, 512}}};
    case 16: return {{{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}}};
    case 19:
      return {{{64, 64}, {128, 128}, {256, 256, 256, 256}, {512, 512, 512, 512},
               {512, 512, 512, 512}}};
    default: break;
  }
  RETORT_CHECK(false, "make_vgg: depth must be one of 8, 11, 13, 16, 19, got ", depth);
  return {};
}

// conv-bn-relu per width, without the last relu (RepDistiller's layers[:-1]).
std::shared_ptr<Sequential> make_block(const std::vector<std::int64_t>& widths, std::int64_t in) {
  auto seq = std::make_shared<Sequential>();
  for (std::size_t i = 0; i < widths.size(); ++i) {
    seq->push_back(std::make_shared<Conv2d>(in, widths[i], 3, /*stride=*/1, /*padding=*/1));
    seq->push_back(std::make_shared<BatchNorm2d>(widths[i]));
    if (i + 1 < widths.size()) seq->push_back(std::make_shared<ReLU>());
    in = widths[i];
  }
  return seq;
}

class Vgg : public ZooNet {
 public:
  Vgg(const Config& cfg, std::int64_t classes) {
    num_classes_ = classes;
    std::int64_t in = 3;
    for (std::size_t k = 0; k < 5; ++k) {
      block[k] = register_module("block" + std::to_string(k), make_block(cfg[k], in));
      in = cfg[k].back();
    }
    for (std::size_t k = 0; k < 4; ++k)
      pool[k] = register_module("pool" + std::to_string(k), std::make_shared<MaxPool2d>(2, 2));
    pool4 = register_module("pool4", std::make_shared<AdaptiveAvgPool2d>(1));
    classifier = register_module("classifier", std::make_shared<Linear>(512, classes));
    for (std::size_t k = 0; k < 5; ++k)
      relu[k] = register_module("relu" + std::to_string(k), std::make_shared<ReLU>());
    flatten = register_module("flatten", std::make_shared<Flatten>(1));
    for (auto& [name, m] : named_modules()) {
      if (auto* c = dynamic_cast<Conv2d*>(m.get())) {
        init::kaiming_normal_(c->weight, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
        init::zeros_(c->bias);
      }
    }
    init::normal_(classifier->weight, 0.0, 0.01);
    init::zeros_(classifier->bias);
  }

  // x [N, 3, H, W] → [N, classes]; pool3 runs only for H = 64, as in RepDistiller.
  Tensor forward(const Tensor& x) override {
    std::int64_t h = x.size(2);
    Tensor y = x;
    for (std::size_t k = 0; k < 5; ++k) {
      // The block's last batch norm and this relu as one node unless either is tapped.
      y = block[k]->has_forward_hooks() || relu[k]->has_forward_hooks()
              ? (*relu[k])((*block[k])(y))
              : block[k]->forward_relu(y);
      if (k < 3 || (k == 3 && h == 64)) y = (*pool[k])(y);
    }
    return (*classifier)((*flatten)((*pool4)(y)));
  }

  std::vector<std::string> feature_taps(bool preact) const override {
    if (!preact) return {"relu0", "relu1", "relu2", "relu3", "relu4", "flatten"};
    return {"relu0", "block1", "block2", "block3", "block4", "flatten"};
  }
  std::string type_name() const override { return "VGG"; }

 private:
  std::array<std::shared_ptr<Sequential>, 5> block;
  std::array<std::shared_ptr<MaxPool2d>, 4> pool;
  std::shared_ptr<AdaptiveAvgPool2d> pool4;
  std::shared_ptr<Linear> classifier;
  std::array<std::shared_ptr<ReLU>, 5> relu;
  std::shared_ptr<Flatten> flatten;
};

}  // namespace

std::shared_ptr<ZooNet> make_vgg(std::int64_t depth, std::int64_t num_classes) {
  return std::make_shared<Vgg>(config(depth), num_classes);
}

}  // namespace retort::nn
