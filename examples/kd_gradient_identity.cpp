// kd_gradient_identity: a worked check of why Hinton's KD loss is scaled by T².
//
// For loss = T²·KL(softmax(t/T) ‖ softmax(s/T)) averaged over the batch (kd::kd_loss, batchmean),
// the gradient with respect to the student logits s [N, K] is
//     ∂loss/∂s = T·(softmax(s/T) − softmax(t/T)) / N.
// Without the T² factor it would shrink like 1/T; with it, its size stays comparable across
// temperatures (and, for large T, approaches (s − t)/(N·K) after centring: logit matching).
// This program computes the gradient by autograd and by the formula, for several T, and prints
// both and their largest difference. It exits non-zero if they ever disagree beyond 1e-12.
#include <cstdio>
#include <exception>

#include "retort.h"

using namespace retort;

int run() {
  const std::int64_t N = 4, K = 6;
  Generator gen(7);
  Tensor t = randn({N, K}, kFloat64, &gen) * 3.0;
  Tensor s0 = randn({N, K}, kFloat64, &gen) * 3.0;
  bool ok = true;
  std::printf("%6s %14s %14s %12s\n", "T", "|grad| autograd", "|grad| formula", "max diff");
  for (double T : {0.5, 1.0, 2.0, 4.0, 8.0, 20.0}) {
    Tensor s = s0.clone();
    s.set_requires_grad();
    kd::kd_loss(s, t, {.T = T}).backward();
    Tensor formula = T * (softmax(s0 / T, 1) - softmax(t / T, 1)) / static_cast<double>(N);
    double diff = amax(abs(s.grad() - formula)).item<double>();
    std::printf("%6.1f %14.6f %14.6f %12.3e\n", T, norm(s.grad()).item<double>(), norm(formula).item<double>(), diff);
    ok = ok && diff < 1e-12;
  }
  std::printf(ok ? "identity holds: dL/ds = T·(softmax(s/T) − softmax(t/T))/N\n" : "MISMATCH\n");
  return ok ? 0 : 1;
}

// Any exception (a retort::Error, std::bad_alloc, ...) is reported, not an abort.
int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kd_gradient_identity: %s\n", e.what());
    return 1;
  }
}
