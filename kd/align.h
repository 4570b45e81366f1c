// Spatial alignment shared by the feature-map losses of kd/fsp.h and kd/vid.h (namespace
// retort::kd): two maps a [N, C_a, H_a, W_a] and b [N, C_b, H_b, W_b] are brought to the same
// (H, W) by adaptive-avg-pooling the one with the larger height to the other's (H, W), as
// RepDistiller does before FSP and VID (it pools to (H, H); the same for square maps).
#pragma once
#include <utility>

#include "tensor/tensor.h"

namespace retort::kd {

// Checks both are 4-D with the same N and dtype, then pools. Errors read
// "<op>: <a_name> [..] and <b_name> [..]: <why>". Returns the aligned pair (a', b').
std::pair<Tensor, Tensor> pool_to_smaller(const char* op, const Tensor& a, const Tensor& b,
                                          const char* a_name, const char* b_name);

}  // namespace retort::kd
