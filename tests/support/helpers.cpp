// Test helpers (see helpers.h). Comparisons go through to_vector<double>() so any dtype pair works.
#include "support/helpers.h"

#include "retort_config.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#endif

#include <cmath>
#include <random>
#include <sstream>

namespace retort::testing {

double max_abs_diff(const Tensor& a, const Tensor& b) {
  auto va = a.to_vector<double>();
  auto vb = b.to_vector<double>();
  double m = 0;
  for (std::size_t i = 0; i < va.size() && i < vb.size(); ++i) m = std::max(m, std::abs(va[i] - vb[i]));
  return m;
}

bool allclose(const Tensor& a, const Tensor& b, double atol, double rtol, std::string* why) {
  if (a.sizes() != b.sizes()) {
    if (why) *why = "shapes differ: " + shape_str(a.sizes()) + " vs " + shape_str(b.sizes());
    return false;
  }
  auto va = a.to_vector<double>();
  auto vb = b.to_vector<double>();
  for (std::size_t i = 0; i < va.size(); ++i) {
    double d = std::abs(va[i] - vb[i]);
    if (!(d <= atol + rtol * std::abs(vb[i]))) {
      if (why) {
        std::ostringstream os;
        os << "element " << i << " of " << shape_str(a.sizes()) << ": " << va[i] << " vs " << vb[i]
           << " (max abs diff " << max_abs_diff(a, b) << ")";
        *why = os.str();
      }
      return false;
    }
  }
  return true;
}

Tensor random_tensor(const Shape& sizes, DType dtype, std::uint64_t seed, double scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd(0.0, scale);
  std::vector<double> v(static_cast<std::size_t>(shape_numel(sizes)));
  for (auto& e : v) e = nd(rng);
  return from_vector(v, sizes, dtype);
}

Tensor grad_leaf(const Shape& sizes, std::uint64_t seed, bool requires_grad) {
  Tensor t = random_tensor(sizes, kFloat64, seed);
  t.set_requires_grad(requires_grad);
  return t;
}

bool onednn_fast_paths() {
#if RETORT_WITH_ONEDNN
  return onednn::enabled();
#else
  return false;
#endif
}

FastPaths::FastPaths(bool on) : was_(onednn_fast_paths()) {
#if RETORT_WITH_ONEDNN
  onednn::set_enabled(on);
#else
  (void)on;
#endif
}

FastPaths::~FastPaths() {
#if RETORT_WITH_ONEDNN
  onednn::set_enabled(was_);
#endif
}

}  // namespace retort::testing
