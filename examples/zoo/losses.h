// The distillation losses of examples/kd_zoo by name, with their reference weights and the
// feature taps of the seed networks (namespace retort::examples::zoo).
//
// Taps (module paths; shapes for CIFAR-10 inputs [N, 3, 32, 32]):
//   map:  student "features.5" [N, 16, 8, 8]   teacher "features.9" [N, 32, 8, 8]
//         (the output of the last conv stage, after its max pool)
//   vec:  student "classifier.1" [N, 256]      teacher "classifier.1" [N, 512]
//         (the penultimate features: ReLU after the first Linear, before dropout)
//   fsp:  student "features.2" [N, 16, 16, 16] teacher "features.4" [N, 64, 16, 16]
//         (the input of the last conv stage), paired with the map taps
// Losses and what they compare (weights in loss_table()):
//   ce      cross_entropy(s, y)
//   kd      kd_loss(s, t, {.T = 4})                     dkd   dkd_loss(s, t, y) (α 1, β 8, T 4),
//   dist    dist_loss(s, t) (β = γ = τ = 1)                  weight warmed up linearly over the
//   mse     logit_mse(s, t)                                  first 1/12 of the steps (mdistiller:
//                                                            20 of 240 epochs)
//   fitnet  hint_loss(ConvReg 16→32, map_s, map_t)     at    at_loss(map_s, map_t) (p 2, mean)
//   nst     nst_loss(map_s, map_t)                     vid   vid_loss(VIDRegressor(16, 32, 32), ...)
//   cosine  cosine_loss(map_s, map_t, {.pool = 2}) (1024 vs 2048/2, the PyTorch tutorial's shapes)
//   sp      sp_loss(map_s, map_t)                      rkd   rkd_loss(vec_s, vec_t) (25, 50)
//   pkt     pkt_loss(vec_s, vec_t)
//   fsp     fsp_loss({c1(fsp_s), c2(map_s)}, {fsp_t, map_t}) (summed over the pairs) with
//           learnable Conv1x1 connectors c1: 16→64, c2: 16→32 on the student side (the seed nets'
//           channel counts differ; RepDistiller requires equal ones)
//   cc      cc_loss(E_s(vec_s), E_t(vec_t)) (RepDistiller variant, the default), E_s = Linear(256→128),
//           E_t = Linear(512→128) (RepDistiller's LinearEmbed pair; E_t stays at its random
//           initialisation here because the kd losses detach the teacher argument)
//   crd     CRD(256, 512, train labels, feat 128, K = crd_k, T 0.07, m 0.5) on vec_s, vec_t, indices,
//           negatives from the other classes (RepDistiller's sampler, mode 'exact')
// Extra modules (regressors, connectors, embeddings) are trained with the student.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/kd_experiment.h"
#include "zoo/layout.h"

namespace retort::examples::zoo {

struct LossInfo {
  const char* name;
  double weight;     // the loss's reference weight
  double ce_weight;  // the CE weight its reference uses beside it
  const char* reference;
};
// ce first, then every loss in the order `--loss all` trains them.
const std::vector<LossInfo>& loss_table();
// Throws "kd_zoo: unknown loss 'x' (known: ...)".
const LossInfo& loss_info(const std::string& name);

struct WeightedLoss {
  std::string name;
  double weight;
};
// "ce:0.75,kd:0.25", "kd", "ce,at:1000": names with optional ":weight"; a missing weight is the
// reference one; when "ce" is not listed it is added first with the CE weight of the first
// listed loss's reference ("ce:0,kd" trains with KD alone). Throws on unknown or repeated names.
std::vector<WeightedLoss> parse_losses(const std::string& spec);
// "ce 0.1 + kd 0.9".
std::string describe(const std::vector<WeightedLoss>& losses);
// The run's name: the non-CE losses joined by '+', or "ce".
std::string run_name(const std::vector<WeightedLoss>& losses);

struct Setup {
  Tensor train_labels;           // int64 [n_data] (CRD's memory banks and class-aware negatives)
  std::int64_t total_steps = 1;  // batches of the whole run (DKD's warm-up)
  std::int64_t crd_k = 4096;     // CRD negatives per sample
  std::uint64_t seed = 42;       // CRD's sampling generator
  FeatureLayout layout = seed_layout();  // where the feature losses read (zoo/layout.h)
};
// The objective for the student ← teacher pair whose taps setup.layout names; builds the extra
// modules now (seed first).
Objective make_objective(const std::vector<WeightedLoss>& losses, const Setup& setup);

// The --help table: name, weight, CE weight, reference, one line each.
std::string loss_help();

}  // namespace retort::examples::zoo
