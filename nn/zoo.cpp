// The zoo's name table. Each entry calls its family's factory with RepDistiller's arguments for that
// model_dict key; lookups are case-insensitive because users type "mobilenetv2" and "shufflev2" as
// often as RepDistiller's spelling.
#include "nn/zoo.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <sstream>

#include "nn/mobilenetv2.h"
#include "nn/resnet.h"
#include "nn/shufflenetv1.h"
#include "nn/shufflenetv2.h"
#include "nn/vgg.h"
#include "nn/wrn.h"
#include "tensor/error.h"

namespace retort::nn {

namespace {

using Factory = std::function<std::shared_ptr<ZooNet>(std::int64_t)>;

struct Entry {
  std::string name;
  Factory make;
};

const std::vector<Entry>& table() {
  static const std::vector<std::int64_t> small{16, 16, 32, 64}, x4{32, 64, 128, 256};
  auto resnet = [](std::int64_t d, const std::vector<std::int64_t>& f) {
    return [d, &f](std::int64_t c) { return make_cifar_resnet(d, f, c); };
  };
  auto wrn = [](std::int64_t d, std::int64_t w) {
    return [d, w](std::int64_t c) { return make_wrn(d, w, c); };
  };
  auto vgg = [](std::int64_t d) { return [d](std::int64_t c) { return make_vgg(d, c); }; };
  static const std::vector<Entry> t{
      {"resnet8", resnet(8, small)},
      {"resnet14", resnet(14, small)},
      {"resnet20", resnet(20, small)},
      {"resnet32", resnet(32, small)},
      {"resnet44", resnet(44, small)},
      {"resnet56", resnet(56, small)},
      {"resnet110", resnet(110, small)},
      {"resnet8x4", resnet(8, x4)},
      {"resnet32x4", resnet(32, x4)},
      {"wrn_16_1", wrn(16, 1)},
      {"wrn_16_2", wrn(16, 2)},
      {"wrn_40_1", wrn(40, 1)},
      {"wrn_40_2", wrn(40, 2)},
      {"vgg8", vgg(8)},
      {"vgg11", vgg(11)},
      {"vgg13", vgg(13)},
      {"vgg16", vgg(16)},
      {"vgg19", vgg(19)},
      {"MobileNetV2", [](std::int64_t c) { return make_mobilenetv2(6, 0.5, c); }},
      {"ShuffleV1", [](std::int64_t c) { return make_shufflenet_v1(c); }},
      {"ShuffleV2", [](std::int64_t c) { return make_shufflenet_v2(c); }},
  };
  return t;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

const Entry& find(const std::string& name) {
  for (const auto& e : table())
    if (lower(e.name) == lower(name)) return e;
  std::ostringstream all;
  for (const auto& e : table()) all << ' ' << e.name;
  RETORT_CHECK(false, "model zoo: unknown model '", name, "'; known (any case):", all.str());
  return table().front();
}

}  // namespace

const std::vector<std::string>& zoo_model_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& e : table()) v.push_back(e.name);
    return v;
  }();
  return names;
}

std::string canonical_model_name(const std::string& name) { return find(name).name; }

std::shared_ptr<ZooNet> create_model(const std::string& name, std::int64_t num_classes,
                                     const TensorOptions& tensor_options) {
  RETORT_CHECK(num_classes >= 1, "create_model(", name, "): num_classes must be >= 1, got ",
               num_classes);
  auto model = find(name).make(num_classes);
  if (tensor_options.dtype != kFloat32) model->to(tensor_options.dtype);
  if (tensor_options.device != kCPU) model->to(tensor_options.device);
  return model;
}

double zoo_base_lr(const std::string& name) {
  std::string n = canonical_model_name(name);
  return n == "MobileNetV2" || n == "ShuffleV1" || n == "ShuffleV2" ? 0.01 : 0.05;
}

}  // namespace retort::nn
