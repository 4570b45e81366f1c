// The seed networks of the knowledge-distillation experiments (used by tests, the benchmark and
// the examples). Parameter names equal those of the equivalent PyTorch modules, so
// "features.0.weight", "classifier.3.bias", ... load from and save to PyTorch checkpoints.
//
// For an input [N, C_in, S, S] (S = image_size, default 32; two 2×2 max pools give S/4 after
// flooring: 32 → 8, 28 → 7):
//
// TeacherNet — 1,186,986 parameters for C_in = 3, S = 32, 10 classes:
//   features   = Sequential(Conv2d(C_in→128, 3, p1), ReLU, Conv2d(128→64, 3, p1), ReLU,
//                           MaxPool2d(2), Conv2d(64→64, 3, p1), ReLU, Conv2d(64→32, 3, p1), ReLU,
//                           MaxPool2d(2))                               → [N, 32, S/4, S/4]
//   classifier = Sequential(Linear(32·(S/4)² → 512), ReLU, Dropout(0.1), Linear(512 → classes))
//
// StudentNet — 267,738 parameters for C_in = 3, S = 32, 10 classes:
//   features   = Sequential(Conv2d(C_in→16, 3, p1), ReLU, MaxPool2d(2), Conv2d(16→16, 3, p1),
//                           ReLU, MaxPool2d(2))                         → [N, 16, S/4, S/4]
//   classifier = Sequential(Linear(16·(S/4)² → 256), ReLU, Dropout(0.1), Linear(256 → classes))
//
// forward(x) = classifier(flatten(features(x), 1)): logits [N, classes]. Feature-KD taps are
// e.g. "features.9" (teacher, [N,32,8,8]) and "features.5" (student, [N,16,8,8]).
#pragma once
#include <cstdint>
#include <memory>

#include "nn/basic.h"

namespace retort::nn {

class TeacherNet : public Module {
 public:
  explicit TeacherNet(std::int64_t in_channels = 3, std::int64_t num_classes = 10,
                      std::int64_t image_size = 32);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "TeacherNet"; }

  std::shared_ptr<Sequential> features, classifier;
};

class StudentNet : public Module {
 public:
  explicit StudentNet(std::int64_t in_channels = 3, std::int64_t num_classes = 10,
                      std::int64_t image_size = 32);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "StudentNet"; }

  std::shared_ptr<Sequential> features, classifier;
};

}  // namespace retort::nn
