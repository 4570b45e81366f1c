#include "nn/mobilenetv2.h"

#include "tensor/error.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_mobilenetv2(std::int64_t expansion, double width_mult, std::int64_t num_classes) {
  RETORT_CHECK(false, "make_mobilenetv2: not built yet");
  return nullptr;
}

}  // namespace retort::nn
