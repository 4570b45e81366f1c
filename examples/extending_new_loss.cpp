// docs/extending.md: a new distillation loss in about 20 lines. The loss is a composition of
// differentiable ops (no hand-written backward), checked by finite differences, and registered as
// a Distiller term next to cross-entropy. Exits non-zero when a check fails (run by ctest).
#include <cstdio>
#include <exception>

#include "autograd/gradcheck.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/nn_ops.h"
#include "kd/distiller.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "optim/adam.h"
#include "tensor/random.h"

using namespace retort;

// Jensen–Shannon distillation: p = softmax(s/T), q = softmax(t/T), m = (p + q)/2,
//   loss = T²·Σ_n ½(KL(p‖m) + KL(q‖m)) / N.   s, t [N, K]; the teacher t is detached.
struct JsOptions {
  double T = 4.0;  // temperature first, as every loss of kd/
};
Tensor js_loss(const Tensor& s, const Tensor& t, const JsOptions& o = {}) {
  const double T = o.T;
  Tensor p = softmax(s / T, 1), q = softmax(detach(t) / T, 1);
  Tensor log_m = log((p + q) * 0.5);
  Tensor kl_pm = sum(p * (log_softmax(s / T, 1) - log_m));
  Tensor kl_qm = sum(q * (log_softmax(detach(t) / T, 1) - log_m));
  return (kl_pm + kl_qm) * (0.5 * T * T / static_cast<double>(s.size(0)));
}

int run() {
  // 1. Gradcheck in float64 against central differences.
  Tensor s = randn({4, 5}, kFloat64).set_requires_grad(), t = randn({4, 5}, kFloat64);
  auto gc = gradcheck([&](const std::vector<Tensor>& in) { return js_loss(in[0], t); }, {s});
  std::printf("gradcheck: %s (max error %.2e)\n", gc.ok ? "ok" : gc.message.c_str(), gc.max_abs_error);

  // 2. Register it as a Distiller term (teacher frozen, run without a graph).
  auto student = std::make_shared<nn::StudentNet>(1, 10, 8);
  auto teacher = std::make_shared<nn::TeacherNet>(1, 10, 8);
  kd::Distiller d(student, teacher);
  d.add_term({"ce", 1.0, [](const kd::Context& c) {
                return nn::functional::cross_entropy(c.student_logits, c.targets); }});
  d.add_term({"js", 1.0, [](const kd::Context& c) { return js_loss(c.student_logits, c.teacher_logits); },
              kd::linear_warmup(5)});

  // 3. Train a few steps on one batch; the loss must go down.
  optim::Adam opt(student->parameters(), {.lr = 1e-2});
  Tensor x = randn({8, 1, 8, 8}), y = from_vector(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7}, {8});
  double first = 0, last = 0;
  for (int i = 0; i < 20; ++i) {
    kd::StepResult r = d.train_step(opt, x, y);
    if (i == 0) first = r.values[0] + r.values[1];
    last = r.values[0] + r.values[1];
    if (i % 5 == 0) std::printf("step %2d  ce %.4f  js %.4f  (js weight %.2f)\n", i, r.values[0], r.values[1], r.weights[1]);
  }
  std::printf("ce + js: %.4f -> %.4f\n", first, last);
  return gc.ok && last < first ? 0 : 1;
}

// Any exception (a retort::Error, std::bad_alloc, ...) is reported, not an abort.
int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "extending_new_loss: %s\n", e.what());
    return 1;
  }
}
