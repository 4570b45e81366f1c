// Backward-weights of a 3x3, stride-1, padding-1 convolution by Winograd F(4x4, 3x3), a CPU fast
// path beside oneDNN's. oneDNN 2.6's own Winograd backward-weights kernel runs at about half of
// this machine's float32 GEMM speed; here the transforms and the 36 products are separate stages
// (a batched oneDNN matmul over the whole batch, or per-thread chunks for few channels):
//   V[p][t][c] = (Bᵀ·d·B)[p]      d: the 6x6 input tile t of channel c (x zero-padded by 1)
//   M[p][o][t] = (A·dy·Aᵀ)[p]     dy: the 4x4 output-gradient tile t of channel o (zero past H, W)
//   dU[p]      = M[p]·V[p]        [O, T]·[T, C] for each p
//   gw[o][c]   = Gᵀ·dU[·][o][c]·G (6x6 → 3x3)
//   gb[o]      = Σ_t M[7][o][t]   (row 1 of A is all ones, so M[7] sums each 4x4 tile)
// p = 6k + l indexes the 6x6 transformed tile; t runs over (n, tile row, tile column) with
// ⌈H/4⌉·⌈W/4⌉ tiles per image. B, G, A are Lavin & Gray's F(4x4, 3x3) matrices (points 0, ±1,
// ±2, ∞). Float32 rounding: gw is within about 1e-5 of its largest element of the exact value
// (oneDNN's Winograd kernel: about 1e-6); tests/tensor/test_winograd_onednn.cpp holds the numbers.
#pragma once
#include <cstdint>

#include "tensor/conv.h"

namespace retort::onednn {

// Whether this path takes the layer: x [N, C, H, W] and w [O, C, 3, 3] float32 with C and O
// multiples of 16, stride 1, padding 1, dilation 1, one group, on a CPU with AVX-512.
bool winograd_weights_supported(const Shape& x, const Shape& w, const ops::Conv2dParams& p);

// How the transforms and products are scheduled (tensor/onednn/winograd_tiles.h): whole-batch
// tile buffers and one batched oneDNN matmul, or per-thread chunks of a few images that stay in
// the cache. automatic picks by channel count; tests force each.
enum class WinogradStrategy { automatic, whole_batch, chunked };

// x [N, C, H, W] and gy [N, O, H, W] in oneDNN's nChw16c layout (N, C/16, H, W, 16 channels
// innermost); writes gw packed [O, C, 3, 3] and, when gb is not null, gb [O].
void winograd_backward_weights(const float* x, const float* gy, const Shape& x_sizes,
                               std::int64_t O, float* gw, float* gb,
                               WinogradStrategy strategy = WinogradStrategy::automatic);

}  // namespace retort::onednn
