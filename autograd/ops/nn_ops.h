// Differentiable neural-network ops (namespace retort): the layer maths behind nn/. Image tensors
// are NCHW: x [N, C, H, W]; conv weight [C_out, C_in/groups, KH, KW]; transposed-conv weight
// [C_in, C_out/groups, KH, KW]; linear weight [OUT, IN] (PyTorch layouts, so checkpoints are
// interchangeable).
#pragma once
#include <array>
#include <cstdint>

#include "tensor/tensor.h"

namespace retort {

// Matrix products. matmul: [M,K]×[K,N] → [M,N]; with more dims, leading dims broadcast (batched).
// bmm: [B,M,K]×[B,K,N] → [B,M,N]. linear: x [..., IN], w [OUT, IN], b [OUT] or undefined →
// y = x·wᵀ + b, [..., OUT].
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());

struct Conv2dOptions {
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
};
// y[n,o,h,w] = b[o] + Σ_{c,kh,kw} x[n, g·C_in/groups + c, h·s−p+kh·d, w·s−p+kw·d] · w[o,c,kh,kw]
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(),
              const Conv2dOptions& opt = {});
// relu(conv2d(x, w, b, opt)) as one node whose forward applies the relu while writing y (one pass
// over y less on the oneDNN path); values and gradients are the composite's.
Tensor conv2d_relu(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(),
                   const Conv2dOptions& opt = {});

struct ConvTranspose2dOptions {
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> output_padding{0, 0};  // each < stride or < dilation (PyTorch's rule)
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
};
// Transposed convolution (the input-gradient of conv2d; PyTorch's conv_transpose2d).
// x [N, C_in, H, W], w [C_in, C_out/groups, KH, KW], b [C_out] or undefined → y [N, C_out, H', W'],
//   H' = (H − 1)·s − 2p + d·(KH − 1) + output_padding + 1 (W' likewise),
//   y[n, g·C_out/groups + o, h·s − p + kh·d, w·s − p + kw·d] += x[n, i, h, w] · w[i, o, kh, kw]
//   for every i = g·C_in/groups + c of group g, and h, w, kh, kw (positions outside
//   [0, H') × [0, W') dropped), plus b[g·C_out/groups + o].
// Composed of differentiable ops (zero insertion, padding, conv2d with the flipped weight).
Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b = Tensor(),
                        const ConvTranspose2dOptions& opt = {});

// Pooling over H, W. stride 0 means stride = kernel. Output size floor((H + 2p − k)/s) + 1.
Tensor max_pool2d(const Tensor& x, std::array<std::int64_t, 2> kernel,
                  std::array<std::int64_t, 2> stride = {0, 0},
                  std::array<std::int64_t, 2> padding = {0, 0});
Tensor avg_pool2d(const Tensor& x, std::array<std::int64_t, 2> kernel,
                  std::array<std::int64_t, 2> stride = {0, 0},
                  std::array<std::int64_t, 2> padding = {0, 0}, bool count_include_pad = true);
Tensor adaptive_avg_pool2d(const Tensor& x, std::array<std::int64_t, 2> output_size);

// Batch normalisation over N, H, W per channel C (x [N,C] or [N,C,H,W]). Training: batch
// statistics normalise x, and running stats (when defined) are updated in place as
// r ← (1−momentum)·r + momentum·stat, with the unbiased variance. Eval: running stats normalise.
// weight/bias [C] may be undefined (affine off).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum = 0.1, double eps = 1e-5);
// relu(batch_norm(...)) as one node: the same values and gradients, one pass over the activation
// less each way where the oneDNN path fuses them (tensor/batch_norm.h). nn::BatchNorm2d's
// forward_relu uses it.
Tensor batch_norm_relu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& running_mean, const Tensor& running_var, bool training,
                       double momentum = 0.1, double eps = 1e-5);

// Softmax along dim, and its log (computed stably, not as log(softmax)).
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);

// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p);
// identity when !training or p == 0. Uses the global generator (tensor/random.h).
Tensor dropout(const Tensor& x, double p, bool training);

}  // namespace retort
