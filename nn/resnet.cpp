#include "nn/resnet.h"

#include "tensor/error.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_cifar_resnet(std::int64_t depth, const std::vector<std::int64_t>& filters, std::int64_t num_classes) {
  RETORT_CHECK(false, "make_cifar_resnet: not built yet");
  return nullptr;
}

}  // namespace retort::nn
