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
//   with c = contrast_idx [N, K+1] (column 0 the positive), given by the caller or drawn by the
//   CRD module as options.negatives says:
//     ClassExact (default; RepDistiller's CIFAR100InstanceSample, mode 'exact', which its
//       train_student.py uses for CRD): column 0 = idx; K negatives drawn from the samples of the
//       other classes (labels of the whole training set given at construction), without
//       replacement unless K exceeds their number (np.random.choice(cls_negative[y], K,
//       replace=K > len)).
//     ClassRelax (mode 'relax'): the same negatives, column 0 a random sample of the same class.
//     Uniform (RepDistiller's ContrastMemory when no contrast_idx is passed: its AliasMethod over
//       uniform unigrams): K indices uniform in [0, n_data) with replacement, column 0 = idx.
//   Draws come from the module's own Generator (options.seed), the same stream on every device.
//   Z_s, Z_t: set once, on the first forward, to mean(exp(·/τ)) · n_data of that batch.
//   NCE (ContrastLoss), Pn = 1/n_data, eps = 1e-7, x = out [N, K+1]:
//     ℓ(x) = −(Σ_n log(x_n0 / (x_n0 + K·Pn + eps)) + Σ_n Σ_{k≥1} log(K·Pn / (x_nk + K·Pn + eps))) / N
//   loss = ℓ(out_s) + ℓ(out_t).
//   After scoring, under no_grad, the rows idx of each memory are moved towards the batch:
//     M[idx_n] ← normalize(m·M[idx_n] + (1 − m)·v_n)   (m = momentum; duplicate indices: last
//     wins, as index_copy_ on the CPU).
// Settings live in the state: the `params` buffer [K, τ, Z_s, Z_t, m] (RepDistiller's layout,
// −1 meaning Z unset) is the single source of K, τ, Z and m at every forward, so a loaded state
// dict brings its own settings (the constructor's options only initialise the buffer); a loaded
// buffer with an invalid setting is an error at the next forward. τ and m are read back from the
// buffer's dtype (float32 by default), as RepDistiller's params[1].item() does.
// Memories start U(−b, b), b = 1/√(F/3) (RepDistiller), from the module's Generator (seed).
// Gradients reach f_s, Embed_s and Embed_t (through out_t); f_t is detached.
// State-dict keys match RepDistiller: embed_s.linear.{weight,bias}, embed_t.linear.{…},
// contrast.params, contrast.memory_v1 (M_s), contrast.memory_v2 (M_t). Every tensor is created
// in the dtype and device of the TensorOptions (float32 CPU by default).
#pragma once
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "nn/linear.h"
#include "nn/module.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace retort::kd {

// Linear(dim_in → dim_out) on x flattened to [N, dim_in], rows divided by their L2 norm.
class Embed : public nn::Module {
 public:
  Embed(std::int64_t dim_in, std::int64_t dim_out, const TensorOptions& tensor_options = {});
  Tensor forward(const Tensor& x) override;  // [N, ...] → [N, dim_out]
  std::string type_name() const override { return "Embed"; }
  std::shared_ptr<nn::Linear> linear;
};

// The two memory banks and the scoring of embeddings against them.
class ContrastMemory : public nn::Module {
 public:
  // The memories are drawn from `init` (advanced by 2·n_data·F draws).
  ContrastMemory(std::int64_t feat_dim, std::int64_t n_data, std::int64_t nce_k, double T,
                 double momentum, Generator& init, const TensorOptions& tensor_options = {});
  // v1 = v_s, v2 = v_t [N, F]; y = idx [N]; c [N, K+1] (K = nce_k()). Returns (out_s, out_t)
  // [N, K+1] and updates the memories.
  std::pair<Tensor, Tensor> score(const Tensor& v1, const Tensor& v2, const Tensor& y,
                                  const Tensor& c);
  std::string type_name() const override { return "ContrastMemory"; }

  // The settings, read from `params` (validated: K ≥ 1 integral, τ > 0, 0 ≤ m ≤ 1).
  std::int64_t nce_k() const;
  double temperature() const;
  double momentum() const;

  std::int64_t feat_dim, n_data;
  Tensor params;     // [K, τ, Z_s, Z_t, m]
  Tensor memory_v1;  // M_s [n_data, F]
  Tensor memory_v2;  // M_t [n_data, F]
};

// RepDistiller's ContrastLoss: x [N, K+1] scores (column 0 positive), n_data. Scalar.
Tensor contrast_nce_loss(const Tensor& x, std::int64_t n_data);

enum class CrdNegatives { ClassExact, ClassRelax, Uniform };

// Draws contrast indices [N, K+1] as CrdNegatives says (see the header comment).
class ContrastSampler {
 public:
  // labels int64 [n_data] in [0, C): the class of every training sample (class-aware modes).
  ContrastSampler(CrdNegatives mode, const Tensor& labels, Generator generator);
  // Uniform mode without labels.
  ContrastSampler(std::int64_t n_data, Generator generator);
  // idx int64 [N] (any device) → int64 [N, K+1] on idx's device.
  Tensor draw(const Tensor& idx, std::int64_t k);

  CrdNegatives mode;
  std::int64_t n_data;
  Generator generator;

 private:
  // K negatives of sample i's class into out[0..K).
  void draw_negatives(std::int64_t i, std::int64_t k, std::int64_t* out);
  std::vector<std::int64_t> label_of_;  // class per sample
  std::vector<std::int64_t> order_;     // sample indices sorted by class (stable)
  std::vector<std::int64_t> start_;     // class c occupies order_[start_[c], start_[c + 1])
  std::vector<std::uint32_t> stamp_;    // per sample: the draw_negatives call that took it
  std::uint32_t stamp_now_ = 0;
  std::vector<std::int64_t> scratch_;
};

struct CrdOptions {
  double T = 0.07;                // temperature τ (nce_t), > 0
  std::int64_t feat_dim = 128;    // F, the embedding width
  std::int64_t nce_k = 16384;     // K, negatives per sample
  double momentum = 0.5;          // m (nce_m), in [0, 1]
  CrdNegatives negatives = CrdNegatives::ClassExact;
  std::uint64_t seed = 0;         // memories' initialisation and the negatives' draws
};

class CRD : public nn::Module {
 public:
  // labels int64 [n_data]: the class of every training sample (n_data = labels.size(0)); any
  // CrdNegatives mode.
  CRD(std::int64_t s_dim, std::int64_t t_dim, const Tensor& labels, const CrdOptions& options = {},
      const TensorOptions& tensor_options = {});
  // Without labels: options.negatives must be Uniform (an error names the fix otherwise).
  CRD(std::int64_t s_dim, std::int64_t t_dim, std::int64_t n_data, const CrdOptions& options,
      const TensorOptions& tensor_options = {});
  using nn::Module::forward;
  // f_s [N, ...], f_t [N, ...], idx int64 [N]; contrast_idx int64 [N, K+1] or undefined (drawn
  // by the sampler). Scalar loss; see the header comment.
  Tensor forward(const Tensor& f_s, const Tensor& f_t, const Tensor& idx,
                 const Tensor& contrast_idx = Tensor());
  std::string type_name() const override { return "CRD"; }

  std::shared_ptr<Embed> embed_s, embed_t;
  std::shared_ptr<ContrastMemory> contrast;
  ContrastSampler sampler;
};

}  // namespace retort::kd
