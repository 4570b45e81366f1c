// For the [cuda] tests of Retort's own kernels (elementwise, reduce, index, optim): inputs built
// once on the cpu and moved to the GPU, awkward layouts made by the same view function on both
// devices, and a NaN-aware comparison of a cuda result with the cpu reference.
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "support/cuda_guard.h"
#include "support/helpers.h"
#include "tensor/views.h"

namespace retort::testing {

// Normal values of the dtype; for int64, round(3·N(0,1)) so comparisons and extremes see ties.
inline Tensor sample(const Shape& s, DType dt, std::uint64_t seed, double scale = 1.0) {
  Tensor v = random_tensor(s, kFloat64, seed, dt == kInt64 ? 3.0 * scale : scale);
  if (dt != kInt64) return v.to(dt);
  std::vector<double> r = v.to_vector<double>();
  for (double& e : r) e = std::nearbyint(e);
  return from_vector(r, s, kInt64);
}

// Element tolerance of a cuda result against the cpu reference computed in the same dtype.
inline double rel_tol(DType dt) { return dt == kFloat32 ? 2e-6 : dt == kFloat64 ? 1e-12 : 0.0; }

// got (cuda) equals want (cpu): same shape and dtype, |got − want| ≤ atol + rtol·|want| with NaN
// matching NaN and infinities matching exactly.
inline void require_match(const Tensor& got, const Tensor& want, double atol, double rtol) {
  REQUIRE(got.device().is_cuda());
  REQUIRE(want.device().is_cpu());
  REQUIRE(got.sizes() == want.sizes());
  REQUIRE(got.dtype() == want.dtype());
  const std::vector<double> g = got.to(kCPU).to_vector<double>(), w = want.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i) {
    const bool same_special = (std::isnan(g[i]) && std::isnan(w[i])) || (std::isinf(w[i]) && g[i] == w[i]);
    if (same_special || std::abs(g[i] - w[i]) <= atol + rtol * std::abs(w[i])) continue;
    std::ostringstream os;
    os << "element " << i << " of " << shape_str(want.sizes()) << ": cuda " << g[i] << " vs cpu " << w[i];
    FAIL(os.str());
  }
}

inline void require_match(const Tensor& got, const Tensor& want) {
  require_match(got, want, rel_tol(want.dtype()), rel_tol(want.dtype()));
}

// A layout to test: a base shape (filled with values, then moved) and the view taken of it.
struct LayoutCase {
  const char* name;
  Shape base;
  std::function<Tensor(const Tensor&)> view;
};

inline Tensor same(const Tensor& t) { return t; }

inline std::vector<LayoutCase> awkward_layouts() {
  return {
      {"packed 1025", {1025}, same},
      {"packed 1023x3", {1023, 3}, same},
      {"0-d", {}, same},
      {"empty [0,5]", {0, 5}, same},
      {"size-1 dims [1,7,1]", {1, 7, 1}, same},
      {"transposed [33,17]", {33, 17}, [](const Tensor& t) { return ops::transpose(t, 0, 1); }},
      {"every 2nd column", {6, 1023}, [](const Tensor& t) { return ops::slice(t, 1, 1, 1023, 2); }},
      {"expanded [1,5] to [4,5]", {1, 5}, [](const Tensor& t) { return ops::expand(t, {4, 5}); }},
      {"permuted 4-d", {2, 3, 4, 5}, [](const Tensor& t) { return ops::permute(t, {3, 1, 0, 2}); }},
      {"narrowed row", {4, 9}, [](const Tensor& t) { return ops::narrow(t, 1, 2, 5); }},
      {"9-d that merges", {2, 1, 2, 1, 2, 1, 2, 1, 3}, same},
  };
}

}  // namespace retort::testing
