// RepDistiller's models/resnet.py (CIFAR ResNet, BasicBlock): resnetD = filters {16,16,32,64}, resnetDx4 = {32,64,128,256}.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

std::shared_ptr<ZooNet> make_cifar_resnet(std::int64_t depth, const std::vector<std::int64_t>& filters, std::int64_t num_classes);

}  // namespace retort::nn
