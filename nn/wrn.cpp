#include "nn/wrn.h"

#include "tensor/error.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_wrn(std::int64_t depth, std::int64_t widen_factor, std::int64_t num_classes) {
  RETORT_CHECK(false, "make_wrn: not built yet");
  return nullptr;
}

}  // namespace retort::nn
