// RepDistiller's models/ShuffleNetv1.py: ShuffleV1 (out_planes 240/480/960, blocks 4/8/4, groups 3).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_shufflenet_v1(std::int64_t num_classes);

}  // namespace retort::nn
