// RepDistiller's models/vgg.py with BatchNorm: vgg8 (cfg S), vgg11 (A), vgg13 (B), vgg16 (D), vgg19 (E).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_vgg(std::int64_t depth, std::int64_t num_classes);

}  // namespace retort::nn
