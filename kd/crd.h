// CRD: contrastive representation distillation (Tian et al. 2020), as RepDistiller's CRDLoss
// (Embed, ContrastMemory, ContrastLoss), namespace retort::kd.
//
// Shapes: f_s [N, ...] (S = s_dim features), f_t [N, ...] (T = t_dim features), idx int64 [N]
// the dataset indices of the batch's samples (in [0, n_data), supplied by the loader),
// contrast_idx int64 [N, K+1] (column 0 the positive, normally = idx; K negatives).
//
//   v_s = Embed_s(f_s) = normalize(Linear(S → F)(f_s)),  v_t = Embed_t(f_t)   [N, F]
//   memories M_s, M_t [n_data, F] (buffers, not trained): each row an embedding of a sample
//   out_s[n, k] = exp(M_t[c_nk]·v_s[n] / τ) / Z_s,  out_t[n, k] = exp(M_s[c_nk]·v_t[n] / τ) / Z_t
//   with c = contrast_idx, or drawn when undefined: K uniform indices in [0, n_data) per row
//   from the module's own Generator (RepDistiller draws from an AliasMethod over uniform
//   unigrams, i.e. uniformly), column 0 set to idx.
//   Z_s, Z_t: set once, on the first forward, to mean(exp(·/τ)) · n_data of that batch (stored
//   in the `params` buffer [K, τ, Z_s, Z_t, m] like RepDistiller, −1 meaning unset).
//   NCE (ContrastLoss), Pn = 1/n_data, eps = 1e-7, x = out [N, K+1]:
//     ℓ(x) = −(Σ_n log(x_n0 / (x_n0 + K·Pn + eps)) + Σ_n Σ_{k≥1} log(K·Pn / (x_nk + K·Pn + eps))) / N
//   loss = ℓ(out_s) + ℓ(out_t).
//   After scoring, under no_grad, the rows idx of each memory are moved towards the batch:
//     M[idx_n] ← normalize(m·M[idx_n] + (1 − m)·v_n)   (m = nce_m; duplicate indices: last wins,
//     as index_copy_ on the CPU).
// Memories start U(−b, b), b = 1/√(F/3) (RepDistiller), from the module's Generator (seed).
// Gradients reach f_s, Embed_s and Embed_t (through out_t); f_t is detached.
// State-dict keys match RepDistiller: embed_s.linear.{weight,bias}, embed_t.linear.{…},
// contrast.params, contrast.memory_v1 (M_s), contrast.memory_v2 (M_t).
#pragma once
#include <cstdint>
#include <memory>
#include <utility>

#include "nn/linear.h"
#include "nn/module.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace retort::kd {

// Linear(dim_in → dim_out) on x flattened to [N, dim_in], rows divided by their L2 norm.
class Embed : public nn::Module {
 public:
  Embed(std::int64_t dim_in, std::int64_t dim_out);
  Tensor forward(const Tensor& x) override;  // [N, ...] → [N, dim_out]
  std::string type_name() const override { return "Embed"; }
  std::shared_ptr<nn::Linear> linear;
};

// The two memory banks and the scoring of embeddings against them.
class ContrastMemory : public nn::Module {
 public:
  ContrastMemory(std::int64_t feat_dim, std::int64_t n_data, std::int64_t nce_k, double nce_t,
                 double nce_m, std::uint64_t seed);
  // v1 = v_s, v2 = v_t [N, F]; y = idx [N]; c [N, K+1] or undefined (then drawn).
  // Returns (out_s, out_t) [N, K+1] and updates the memories.
  std::pair<Tensor, Tensor> score(const Tensor& v1, const Tensor& v2, const Tensor& y,
                                  const Tensor& c);
  // K uniform negatives per sample, column 0 = y: [N, K+1] int64.
  Tensor sample(const Tensor& y);
  std::string type_name() const override { return "ContrastMemory"; }

  std::int64_t feat_dim, n_data, nce_k;
  double nce_t, nce_m;  // used as given (double); `params` mirrors them for the state dict
  Tensor params;        // [K, τ, Z_s, Z_t, m]
  Tensor memory_v1;  // M_s [n_data, F]
  Tensor memory_v2;  // M_t [n_data, F]
  Generator generator;
};

// RepDistiller's ContrastLoss: x [N, K+1] scores (column 0 positive), n_data. Scalar.
Tensor contrast_nce_loss(const Tensor& x, std::int64_t n_data);

class CRD : public nn::Module {
 public:
  CRD(std::int64_t s_dim, std::int64_t t_dim, std::int64_t n_data, std::int64_t feat_dim = 128,
      std::int64_t nce_k = 16384, double nce_t = 0.07, double nce_m = 0.5,
      std::uint64_t seed = 0);
  using nn::Module::forward;
  // Scalar loss; see the header comment.
  Tensor forward(const Tensor& f_s, const Tensor& f_t, const Tensor& idx,
                 const Tensor& contrast_idx = Tensor());
  std::string type_name() const override { return "CRD"; }

  std::shared_ptr<Embed> embed_s, embed_t;
  std::shared_ptr<ContrastMemory> contrast;
};

}  // namespace retort::kd
