#include "nn/shufflenetv1.h"

#include "tensor/error.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_shufflenet_v1(std::int64_t num_classes) {
  RETORT_CHECK(false, "make_shufflenet_v1: not built yet");
  return nullptr;
}

}  // namespace retort::nn
