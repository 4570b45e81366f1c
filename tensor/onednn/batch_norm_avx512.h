// Batch normalisation with batch statistics on float32 nChw16c, a CPU fast path beside oneDNN's
// bnorm_jit (tensor/onednn/batch_norm.cpp picks it for training-mode blocked batch norm on a CPU
// with AVX-512). Shapes: x, y, dy, dx are [N, ⌈C/16⌉, HW, 16] (channel c at block c/16, lane
// c%16; lanes past C are padding); weight (γ), bias (β), mean, var are packed [C].
//   forward:  μ_c = mean over the m = N·HW values of channel c
//             σ²_c = mean of (x − μ_c)², biased (computed as E[(x−k)²] − E[x−k]², k = a value
//                    of the channel, so a large mean does not cancel away the variance)
//             y = γ_c·(x − μ_c)/√(σ²_c + eps) + β_c, then y = max(y, 0) when relu
//   backward: with d = dy·[y > 0] (relu) or dy, s_c = γ_c/√(σ²_c + eps), x̂ = (x − μ_c)/√(σ²_c + eps):
//             dβ_c = Σ d,  dγ_c = Σ d·x̂,  dx = s_c·(d − dβ_c/m − x̂·dγ_c/m)
// The relu mask is one bit per element in x's element order (bit l of the 16-bit word of pixel
// (n, block, hw) is lane l), which is also the layout of oneDNN's fuse_norm_relu workspace.
// Padding lanes of y, dx and the mask are written zero. Sums run in float32 over one image's
// pixels of a block and in float64 across images.
#pragma once
#include <cstdint>

namespace retort::onednn {

// Whether this CPU runs the kernels below (AVX-512F).
bool batch_norm16_supported();

// The relu mask's size in 16-bit words: N·⌈C/16⌉·HW, one word per pixel of a block.
std::int64_t batch_norm16_mask_words(std::int64_t N, std::int64_t C, std::int64_t HW);

// mask: where the relu bits go (batch_norm16_mask_words of them), or null for no relu. Writes y,
// mean, var.
void batch_norm16_forward_training(const float* x, const float* weight, const float* bias,
                                   float* y, std::uint16_t* mask, float* mean, float* var,
                                   std::int64_t N, std::int64_t C, std::int64_t HW, double eps);

// mean, var: the forward's batch statistics; mask: the forward's relu bits, or null. Writes dx,
// dweight (dγ) and dbias (dβ).
void batch_norm16_backward(const float* x, const float* dy, const std::uint16_t* mask,
                           const float* weight, const float* mean, const float* var, float* dx,
                           float* dweight, float* dbias, std::int64_t N, std::int64_t C,
                           std::int64_t HW, double eps);

}  // namespace retort::onednn
