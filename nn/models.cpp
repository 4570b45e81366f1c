// Seed networks (see models.h). Layers are registered in PyTorch's order so state-dict keys and
// parameter order match the reference Python definitions in tests/tools/make_nn_fixtures.py.
#include "nn/models.h"

#include "autograd/ops/shape.h"
#include "nn/basic.h"
#include "nn/linear.h"
#include "nn/pooling.h"

namespace retort::nn {

namespace {

// Spatial size after the two 2×2 max pools (each floors).
std::int64_t pooled(const char* net, std::int64_t image_size) {
  RETORT_CHECK(image_size >= 4, net, ": image_size must be at least 4, got ", image_size);
  return image_size / 2 / 2;
}

std::shared_ptr<Module> conv3x3(std::int64_t in, std::int64_t out) {
  return std::make_shared<Conv2d>(in, out, 3, /*stride=*/1, /*padding=*/1);
}

std::shared_ptr<Sequential> head(std::int64_t in, std::int64_t hidden, std::int64_t classes) {
  return make_sequential(std::make_shared<Linear>(in, hidden), std::make_shared<ReLU>(),
                         std::make_shared<Dropout>(0.1), std::make_shared<Linear>(hidden, classes));
}

}  // namespace

TeacherNet::TeacherNet(std::int64_t in_channels, std::int64_t num_classes,
                       std::int64_t image_size) {
  std::int64_t s = pooled("TeacherNet", image_size);
  features = register_module(
      "features",
      make_sequential(conv3x3(in_channels, 128), std::make_shared<ReLU>(), conv3x3(128, 64),
                      std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2), conv3x3(64, 64),
                      std::make_shared<ReLU>(), conv3x3(64, 32), std::make_shared<ReLU>(),
                      std::make_shared<MaxPool2d>(2)));
  classifier = register_module("classifier", head(32 * s * s, 512, num_classes));
}

Tensor TeacherNet::forward(const Tensor& x) { return (*classifier)(flatten((*features)(x), 1)); }

StudentNet::StudentNet(std::int64_t in_channels, std::int64_t num_classes,
                       std::int64_t image_size) {
  std::int64_t s = pooled("StudentNet", image_size);
  features = register_module(
      "features", make_sequential(conv3x3(in_channels, 16), std::make_shared<ReLU>(),
                                  std::make_shared<MaxPool2d>(2), conv3x3(16, 16),
                                  std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2)));
  classifier = register_module("classifier", head(16 * s * s, 256, num_classes));
}

Tensor StudentNet::forward(const Tensor& x) { return (*classifier)(flatten((*features)(x), 1)); }

}  // namespace retort::nn
