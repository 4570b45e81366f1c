// RepDistiller's models/mobilenetv2.py: MobileNetV2 = mobile_half = MobileNetV2(T=6, W=0.5).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_mobilenetv2(std::int64_t expansion, double width_mult, std::int64_t num_classes);

}  // namespace retort::nn
