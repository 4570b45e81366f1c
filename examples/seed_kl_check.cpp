// seed_kl_check: the seed's Hinton term (seed_kl_term, examples/common/kd_experiment.h) against the
// library's kd::kd_loss on ordinary logits, and finite with a gradient on teacher logits whose
// softmax underflows to exact zeros in float32. Exits non-zero on a mismatch; run as a test.
#include <cmath>
#include <cstdio>
#include <exception>
#include <vector>

#include "common/kd_experiment.h"
#include "retort.h"

using namespace retort;

namespace {

bool check(const char* what, const Tensor& s0, const Tensor& t, double T) {
  kd::Context c;
  Tensor s = s0.clone();
  s.set_requires_grad();
  c.student_logits = s;
  c.teacher_logits = t;
  c.targets = zeros({s0.size(0)}, kInt64);
  Tensor loss = examples::seed_kl_term(T, 1.0).fn(c);
  loss.backward();
  const double v = loss.to(kFloat64).item<double>();
  const double ref = kd::kd_loss(s0, t, {.T = T}).to(kFloat64).item<double>();
  const bool finite = std::isfinite(v) && std::isfinite(amax(abs(s.grad())).item<double>());
  const bool ok = finite && std::abs(v - ref) <= 1e-5 * std::max(1.0, std::abs(ref));
  std::printf("%-28s T=%-4g seed_kl_term %.7g  kd_loss %.7g  %s\n", what, T, v, ref,
              ok ? "ok" : "MISMATCH");
  return ok;
}

}  // namespace

int main() {
  try {
    Generator gen(11);
    Tensor s = randn({8, 10}, kFloat32, &gen) * 3.0;
    Tensor t = randn({8, 10}, kFloat32, &gen) * 3.0;
    bool ok = check("ordinary logits", s, t, 2.0) && check("ordinary logits", s, t, 1.0);
    // Gaps of 400 in the teacher's logits: exp(-400) is 0 in float32.
    std::vector<float> rows;
    for (int n = 0; n < 8; ++n) rows.insert(rows.end(), {0, 400, -400, 10, 0, 0, 0, 0, 0, 0});
    Tensor spread = from_vector(rows, {8, 10});
    ok = check("underflowing teacher softmax", s, spread, 1.0) && ok;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seed_kl_check: %s\n", e.what());
    return 1;
  }
}
