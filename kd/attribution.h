// Per-loss gradient attribution (namespace retort::kd): how hard each loss term pulls on each
// parameter or layer, and whether it pulls with or against the cross-entropy term.
//
// For terms ℓ_1..ℓ_T (scalar graph tensors over the same student graph, e.g. StepResult::terms,
// unweighted) and the student's named parameters θ_p, with g_j = ∂ℓ_j/∂θ restricted to a group G
// (one parameter, or one layer = all parameters sharing the module path prefix, "features.0" for
// "features.0.weight"/"features.0.bias", or "*" for all parameters together):
//   grad_norm(G, j) = ‖g_j|_G‖₂
//   cos_ce_kd(G, j) = ⟨g_ref|_G, g_j|_G⟩ / (‖g_ref|_G‖·‖g_j|_G‖)   (ref = the reference term,
//                     "ce" by default; NaN when either norm is 0 or no reference term exists)
// A weighted term λ·ℓ has norm λ·‖g‖ and the same cosine (λ > 0).
//
// Cost: one backward pass per term (T backwards, each through the whole graph reachable from the
// term, with retain_graph = true so the caller's own backward of the total still works), plus one
// copy of the parameters' gradients (the ones accumulated before the call, restored afterwards)
// and one of the reference term's gradient. Every parameter's .grad() is exactly as before the
// call when it returns. Use it every k-th step, not every step.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "tensor/tensor.h"

namespace retort::kd {

enum class AttributionGranularity { Parameter, Layer };

struct AttributionOptions {
  AttributionGranularity granularity = AttributionGranularity::Layer;
  std::string reference_term = "ce";
  bool include_total = true;  // also a row per term for layer "*" (all parameters)
};

struct AttributionRow {
  std::int64_t step = 0;
  std::string layer;  // parameter path, layer path, or "*"
  std::string term;
  double grad_norm = 0;
  double cos_ce_kd = 0;
};

// Rows ordered by group (first appearance in params), then by term. Parameters that do not
// require grad are skipped; a term that does not reach a parameter contributes a zero gradient.
std::vector<AttributionRow> gradient_attribution(
    const std::vector<std::pair<std::string, Tensor>>& terms, const nn::NamedTensors& params,
    std::int64_t step, const AttributionOptions& options = {});

// Appends rows to a CSV file "step,layer,term,grad_norm,cos_ce_kd", writing that header first
// when the file is new or empty; throws naming the path when it cannot be written. The file is
// rewritten whole through AtomicFile (tensor/atomic_file.h), so it never holds a partial row.
void append_attribution_csv(const std::string& path, const std::vector<AttributionRow>& rows);

}  // namespace retort::kd
