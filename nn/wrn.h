// RepDistiller's models/wrn.py (WideResNet, dropRate 0): wrn_D_W.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_wrn(std::int64_t depth, std::int64_t widen_factor, std::int64_t num_classes);

}  // namespace retort::nn
