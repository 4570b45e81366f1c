// RepDistiller's models/mobilenetv2.py: the zoo's "MobileNetV2" is mobile_half =
// MobileNetV2(T=6, W=0.5), built by make_mobilenetv2(6, 0.5, num_classes).
//
// Input x [N, 3, 32, 32] (the only size RepDistiller builds it for: its average pool is fixed to
// H = 32/16 = 2) → logits [N, num_classes].
//   conv1      3×3 stride-2 conv → BN → ReLU, C0 = int(32·W) channels, [N, C0, 16, 16]
//   blocks.i   7 stages of inverted residuals (t, c, n, s) = (1,16,1,1) (T,24,2,1) (T,32,3,2)
//              (T,64,4,2) (T,96,3,1) (T,160,3,2) (T,320,1,1), channels int(c·W); each block is
//              conv = [1×1 expand to C·t → BN → ReLU → 3×3 depthwise (groups C·t) → BN → ReLU →
//              1×1 project → BN], plus x when stride 1 and C_in == C_out (no ReLU after the sum)
//   conv2      1×1 conv → BN → ReLU to 1280 channels (int(1280·W) when W > 1), [N, 1280, 2, 2]
//   avgpool    2×2 average → flatten [N, 1280] → classifier.0 Linear(1280, num_classes)
// With T = 6, W = 0.5 and 100 classes: 812,836 parameters.
//
// Features (forward(x, is_feat=True)): f0 = conv1, f1 = blocks.1, f2 = blocks.2, f3 = blocks.4,
// f4 = blocks.6, f5 = the flattened pool (tap "flatten", parameter-free). RepDistiller's
// MobileNetV2 ignores preact: the preact list equals the post list (f1…f4 are already linear
// block outputs, without a ReLU).
//
// Initialisation is RepDistiller's _initialize_weights: conv weights N(0, 2/(KH·KW·C_out)),
// BN weight 1 and bias 0, Linear weight N(0, 0.01²) and bias 0.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

// expansion = T, width_mult = W of RepDistiller's mobilenetv2_T_w(T, W, num_classes).
std::shared_ptr<ZooNet> make_mobilenetv2(std::int64_t expansion, double width_mult,
                                         std::int64_t num_classes);

}  // namespace retort::nn
