// RepDistiller's models/wrn.py: the pre-activation WideResNet (dropRate 0), wrn_D_W with
// depth D = 6n + 4 and widen factor W; channels {16, 16W, 32W, 64W}.
//
//   conv1 (3→16, 3×3, p1, no bias)                                               [N, 16,  32, 32]
//   block1.layer = n blocks 16→16W, stride 1                                     [N, 16W, 32, 32]
//   block2.layer = n blocks 16W→32W, first stride 2                              [N, 32W, 16, 16]
//   block3.layer = n blocks 32W→64W, first stride 2                              [N, 64W,  8,  8]
//   bn1 → relu → avgpool (8×8) → flatten → fc (64W → classes)                    [N, classes]
// BasicBlock(in→out, stride s), a = relu1(bn1(x)):
//   in = out:  y = x + conv2(relu2(bn2(conv1(a))))
//   in ≠ out:  y = convShortcut(a) + conv2(relu2(bn2(conv1(a))))   (convShortcut 1×1 stride s)
// conv1 is 3×3 stride s, conv2 3×3; no biases.
//
// State-dict keys equal RepDistiller's ("block1.layer.0.bn1.weight",
// "block2.layer.0.convShortcut.weight", "bn1.running_var", "fc.weight", …). Parameter-free
// children with no RepDistiller counterpart (RepDistiller calls F.avg_pool2d and view):
// "avgpool" and "flatten" (the embedding).
//
// Feature taps (RepDistiller's forward(x, is_feat=True, preact)):
//   post:   conv1, block1, block2, block3, flatten
//   preact: conv1, block2.layer.0.bn1, block3.layer.0.bn1, bn1, flatten
// The stage outputs are already pre-activation sums; RepDistiller's preact list passes them through
// the BatchNorm that follows (the next stage's first bn1, then the final bn1), which is the output
// of those BatchNorms in the forward pass. In train mode RepDistiller runs those BatchNorms a
// second time for the preact list (updating their running statistics twice); the taps read the
// single forward's outputs and leave the running statistics as one forward leaves them.
//
// Initialisation is RepDistiller's: conv weights N(0, 2 / (KH·KW·C_out)), BatchNorm weight 1 and
// bias 0, fc weight PyTorch's default and bias 0.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

// depth = 6n + 4 with n ≥ 1, widen_factor ≥ 1 (throws otherwise).
std::shared_ptr<ZooNet> make_wrn(std::int64_t depth, std::int64_t widen_factor,
                                 std::int64_t num_classes);

}  // namespace retort::nn
