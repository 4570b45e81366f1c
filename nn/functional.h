// Losses and helpers (namespace retort::nn::functional, also reachable as retort::F), as
// torch.nn.functional. Each is a composition of differentiable ops (autograd/ops/), so gradients
// come from the graph, never from a hand-written backward. Shapes: logits / log-probs [N, C],
// class targets int64 [N] with values in [0, C).
//
// Reductions: None keeps the per-element (or per-sample) losses, Sum adds them, Mean averages
// them; BatchMean (kl_div only) divides the sum by N = input.size(0).
#pragma once
#include <cstdint>
#include <optional>

#include "tensor/tensor.h"

namespace retort::nn::functional {

enum class Reduction { None, Mean, Sum, BatchMean };

struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;
  // ε in [0, 1]: the target becomes (1 − ε)·onehot + ε/C (PyTorch's formula, below).
  double label_smoothing = 0.0;
  // Samples whose target equals this contribute 0 and are left out of Mean's count. Unlike
  // PyTorch (which ignores −100 by default) there is no default: every label must be valid.
  std::optional<std::int64_t> ignore_index;
};

// nll_loss: ℓ_n = −logp[n, t_n]; Mean = Σ_n ℓ_n / #{n not ignored}.
// A bad label throws "nll_loss: target [N] has label V at position P, outside the class range
// [0, C) of input [N,C]".
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const CrossEntropyOptions& opt = {});

// cross_entropy = nll_loss(log_softmax(logits, 1)) with label smoothing ε:
//   ℓ_n = (1 − ε)·(−logp[n, t_n]) + (ε / C)·(−Σ_c logp[n, c])     (0 for ignored n)
// Mean divides Σ_n ℓ_n by the number of non-ignored samples.
// Throws "cross_entropy: target ..." naming the bad label and its position.
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyOptions& opt = {});

// Elementwise regression losses, input and target of the same shape (any), d = input − target:
//   mse_loss: d²;  l1_loss: |d|;
//   smooth_l1_loss: 0.5·d²/β where |d| < β, else |d| − 0.5·β  (β = 0 is l1_loss).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      Reduction reduction = Reduction::Mean, double beta = 1.0);

// softplus(x) = log(1 + eˣ), elementwise, any shape (floating), computed as
// max(x, 0) + log1p(e^(−|x|)) so that neither e^x overflows (x = 800 gives 800, not inf) nor
// 1 + e^x rounds to 1 (x = −50 gives 1.9e-22, not 0). Gradient σ(x) (from the graph).
Tensor softplus(const Tensor& x);

// Binary cross-entropy on logits x (any shape) with targets y ∈ [0, 1] of the same shape, as
// torch's binary_cross_entropy_with_logits without weights:
//   ℓ = −[y·log σ(x) + (1 − y)·log(1 − σ(x))] = softplus(x) − y·x   (stable for any |x|).
// Gradient ∂ℓ/∂x = σ(x) − y; none flows into y.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);

// Kullback–Leibler divergence, input = log q (log-probabilities), target = p (or log p with
// log_target), same shape:  ℓ = p·(log p − log q), with 0·log 0 = 0.
// Reductions: BatchMean (the mathematically right KL per sample: Σℓ / N), Sum, Mean (Σℓ / numel),
// None. Distillation uses kl_div(log_softmax(s/T), softmax(t/T), BatchMean)·T².
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
              bool log_target = false);

// Cosine similarity along dim: Σ a·b / (max(‖a‖, eps)·max(‖b‖, eps)); a and b broadcast; the
// result drops dim. (Same as torch 1.13: the norms are clamped separately.)
Tensor cosine_similarity(const Tensor& a, const Tensor& b, std::int64_t dim = 1, double eps = 1e-8);

// Not differentiable: how many rows of logits [N, C] have argmax == target [N], and that count / N.
std::int64_t count_correct(const Tensor& logits, const Tensor& target);
double accuracy(const Tensor& logits, const Tensor& target);

}  // namespace retort::nn::functional

namespace retort {
namespace F = nn::functional;
}
