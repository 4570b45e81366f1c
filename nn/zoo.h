// The CIFAR model zoo of the knowledge-distillation benchmarks: the networks of RepDistiller's
// models/ (and mdistiller's CIFAR models, which are the same), with the same structures, the same
// parameter counts and the same state-dict names, so a RepDistiller checkpoint loads by name.
//
// Names are RepDistiller's model_dict keys, accepted case-insensitively:
//   resnet8 resnet14 resnet20 resnet32 resnet44 resnet56 resnet110 resnet8x4 resnet32x4
//   wrn_16_1 wrn_16_2 wrn_40_1 wrn_40_2  vgg8 vgg11 vgg13 vgg16 vgg19  MobileNetV2 ShuffleV1 ShuffleV2
// Input x [N, 3, 32, 32] → logits [N, num_classes].
//
// Features for distillation: RepDistiller's forward(x, is_feat=True, preact) returns a list of
// features [f0, f1, …, f_last] — the stem's output, each stage's output (after its final ReLU, or
// before it with preact) and the pooled embedding [N, D]. Here the same tensors are read through
// taps, with no change to the model: feature_taps(preact) names the module path of each list
// entry in order, so
//   auto taps = model->feature_taps();                 // e.g. {"relu", "layer1", …, "flatten"}
//   std::vector<nn::FeatureTap> t; for (auto& p : taps) t.push_back(model->tap(p));
//   Tensor logits = (*model)(x);  Tensor f2 = t[2].output();
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace retort::nn {

class ZooNet : public Module {
 public:
  // Tap paths of RepDistiller's feature list, in its order; the last is the pooled embedding.
  virtual std::vector<std::string> feature_taps(bool preact = false) const = 0;
  std::string embedding_tap() const { return feature_taps().back(); }
  std::int64_t num_classes() const { return num_classes_; }

 protected:
  std::int64_t num_classes_ = 100;
};

// RepDistiller's spelling of each zoo model, in the order of the header comment.
const std::vector<std::string>& zoo_model_names();
// The canonical spelling of name (case-insensitive match); throws listing every name otherwise.
std::string canonical_model_name(const std::string& name);
// A freshly initialised model (initialised as RepDistiller's model initialises itself, see the
// family's header; from the global generator), with parameters and buffers in tensor_options'
// dtype and device.
std::shared_ptr<ZooNet> create_model(const std::string& name, std::int64_t num_classes = 100,
                                     const TensorOptions& tensor_options = {});
// RepDistiller's base learning rate for the model: 0.01 for MobileNetV2 and the ShuffleNets
// (train_student.py), 0.05 otherwise.
double zoo_base_lr(const std::string& name);

}  // namespace retort::nn
