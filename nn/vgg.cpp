#include "nn/vgg.h"

#include "tensor/error.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_vgg(std::int64_t depth, std::int64_t num_classes) {
  RETORT_CHECK(false, "make_vgg: not built yet");
  return nullptr;
}

}  // namespace retort::nn
