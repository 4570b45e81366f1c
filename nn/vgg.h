// RepDistiller's models/vgg.py with BatchNorm (model_dict's vgg8 … vgg19 are its vggD_bn):
// five blocks of 3×3 convs (with bias, padding 1) each followed by BatchNorm and ReLU, except that
// a block's last ReLU is left out of the block and applied by the forward pass.
//   cfg S (vgg8):  {64} {128} {256} {512} {512}
//   cfg A (vgg11): {64} {128} {256,256} {512,512} {512,512}
//   cfg B (vgg13): {64,64} {128,128} {256,256} {512,512} {512,512}
//   cfg D (vgg16): {64,64} {128,128} {256,256,256} {512,512,512} {512,512,512}
//   cfg E (vgg19): {64,64} {128,128} {256,256,256,256} {512,512,512,512} {512,512,512,512}
// Block k is Sequential(conv, bn, relu, conv, bn, …, conv, bn) — indices 3j (conv), 3j+1 (bn).
//
//   relu0(block0(x)) → pool0 (max 2×2)                                        [N,  64, 16, 16]
//   relu1(block1)    → pool1                                                  [N, 128,  8,  8]
//   relu2(block2)    → pool2                                                  [N, 256,  4,  4]
//   relu3(block3)    → pool3 only when H = 64 (RepDistiller's rule; not for 32×32 input)
//   relu4(block4)    → pool4 (adaptive average to 1×1) → flatten → classifier (512 → classes)
// For a 32×32 input block3 and block4 run at 4×4.
//
// State-dict keys equal RepDistiller's ("block0.0.weight", "block0.1.running_mean",
// "block4.7.bias", "classifier.weight", …). Parameter-free children with no RepDistiller
// counterpart (RepDistiller calls F.relu and view): "relu0" … "relu4" and "flatten".
//
// Feature taps (RepDistiller's forward(x, is_feat=True, preact)):
//   post:   relu0, relu1, relu2, relu3, relu4, flatten
//   preact: relu0, block1, block2, block3, block4, flatten     (f0 is post-ReLU in both lists)
//
// Initialisation is RepDistiller's: conv weights N(0, 2 / (KH·KW·C_out)) and bias 0, BatchNorm
// weight 1 and bias 0, classifier weight N(0, 0.01²) and bias 0.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "nn/zoo.h"

namespace retort::nn {

// depth ∈ {8, 11, 13, 16, 19} (throws otherwise).
std::shared_ptr<ZooNet> make_vgg(std::int64_t depth, std::int64_t num_classes);

}  // namespace retort::nn
