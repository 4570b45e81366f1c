// RepDistiller's models/ShuffleNetv2.py: ShuffleV2 (net_size 1).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_shufflenet_v2(std::int64_t num_classes);

}  // namespace retort::nn
