// Distiller (namespace retort::kd): one offline-KD training step built from weighted loss terms.
//
//   kd::Distiller d(student, teacher);                 // teacher frozen: requires_grad false
//   d.add_student_tap("features.5");                   // [N,16,8,8] for StudentNet
//   d.add_teacher_tap("features.9");                   // [N,32,8,8] for TeacherNet
//   d.add_term({"ce", 1.0, [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); }});
//   d.add_term({"dkd", 1.0, [](const kd::Context& c) {
//                 return kd::dkd_loss(c.student_logits, c.teacher_logits, c.targets); },
//               kd::linear_warmup(20)});             // DKD warm-up: weight·min(1, (step+1)/20)
//   kd::StepResult r = d.step(x, y);                   // or d.train_step(optimizer, x, y)
//   r.total.backward();  optimizer.step();
//
// step(x [N,...], y int64 [N]) runs
//   1. every teacher's forward under NoGradGuard in eval mode (no graph: teacher logits and
//      teacher features are constants), logits t = Σ_i w_i·t_i / Σ_i w_i over the teachers
//      (averaged logits), each t_i also kept in the Context for per-teacher terms:
//        ℓ = Σ_i w̄_i·loss(s, t_i),  w̄_i = w_i / Σ_k w_k     (sum_over_teachers below);
//   2. the student's forward (graph recorded; the student's train/eval mode is the caller's);
//   3. each term ℓ_j = fn_j(Context), a scalar;
//   4. total = Σ_j λ_j·ℓ_j with λ_j = weight_j·schedule_j(step) (schedule_j ≡ 1 when unset).
// `step` is the distiller's step counter (0 for the first call, +1 per call; set_step() moves it,
// e.g. to count epochs instead of batches).
//
// Teacher-output cache (enable_teacher_cache): maps a sample index (the position of the sample in
// the data set, passed as the batch's `indices`) to its teacher logits row [K]. A batch whose
// indices are all cached skips the teacher forward (every teacher's row is cached, so per-teacher
// terms are served from the cache too). This is exact — the cached row equals what a
// fresh forward would give — only when the teacher sees the very same input for a sample at
// every step: no random augmentation (crop, flip, noise) applied before the teacher, teachers
// frozen and deterministic (eval mode: dropout off, BatchNorm on running statistics), teacher
// weights unchanged. With augmentation the cache returns the logits of the first view seen, which
// is an approximation. The cache is bypassed while teacher taps are registered (features would
// need the forward anyway) or when no indices are given.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kd/cost.h"
#include "nn/checkpoint.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "tensor/tensor.h"

namespace retort::kd {

// What a loss term sees. Features are keyed by module path; the taps of teacher i > 0 are keyed
// "<i>:<path>" (teacher 0 plain "<path>").
struct Context {
  Tensor student_logits;  // [N, K], graph tensor
  Tensor teacher_logits;  // [N, K], constant (weighted mean over the teachers)
  std::vector<Tensor> teacher_logits_each;  // [N, K] per teacher, in order (constants)
  std::vector<double> teacher_weights;      // w̄_i = w_i / Σ_k w_k, in order
  Tensor targets;         // int64 [N]
  std::map<std::string, Tensor> student_features;  // graph tensors
  std::map<std::string, Tensor> teacher_features;  // constants
  std::int64_t step = 0;

  // The tapped feature at path; throws naming the path and the registered ones.
  const Tensor& student(const std::string& path) const;
  const Tensor& teacher(const std::string& path) const;
};

// Multi-teacher KD with summed per-teacher terms: Σ_i w̄_i·loss(t_i) over the Context's teachers,
// e.g. sum_over_teachers(c, [&](const Tensor& t) { return kd_loss(c.student_logits, t, 4.0); }).
// With one teacher it is loss(t).
Tensor sum_over_teachers(const Context& c, const std::function<Tensor(const Tensor& teacher_logits)>& loss);

// A multiplier of a term's weight as a function of the step counter.
using Schedule = std::function<double(std::int64_t step)>;
// min(1, (step + 1) / warmup_steps): mdistiller's DKD warm-up min(epoch / warmup, 1) with its
// epochs counted from 1, so the first step (step 0) already has 1 / warmup_steps; ≥ 1 step.
Schedule linear_warmup(std::int64_t warmup_steps);

using TermFn = std::function<Tensor(const Context&)>;
// Analytic cost of a term for the batch in the Context (kd/cost.h), e.g.
//   [](const Context& c) { return cost::rkd(c.targets.size(0), D_s, D_t); }
using CostFn = std::function<cost::Estimate(const Context&)>;
struct Term {
  std::string name;
  double weight = 1.0;
  TermFn fn;
  Schedule schedule;  // unset: constant weight
  CostFn cost;        // unset: term_costs reports measured costs only
};

struct StepResult {
  Tensor total;                     // scalar graph tensor Σ_j λ_j·ℓ_j
  std::vector<std::string> names;   // per term, in registration order
  std::vector<Tensor> terms;        // ℓ_j, unweighted graph tensors (for attribution / dumps)
  std::vector<double> values;       // ℓ_j as numbers (for logging)
  std::vector<double> weights;      // λ_j used at this step
  Tensor student_logits, teacher_logits;
  std::int64_t step = 0;
  bool teacher_from_cache = false;
  double total_value() const { return total.item<double>(); }
};

class Distiller {
 public:
  Distiller(std::shared_ptr<nn::Module> student, std::shared_ptr<nn::Module> teacher);
  // Several teachers, their logits averaged with the given weights (w_i > 0; empty = equal).
  Distiller(std::shared_ptr<nn::Module> student, std::vector<std::shared_ptr<nn::Module>> teachers,
            std::vector<double> teacher_weights = {});

  void add_term(Term term);  // names unique and non-empty, fn set
  void add_student_tap(const std::string& path);
  void add_teacher_tap(const std::string& path, std::size_t teacher = 0);

  void enable_teacher_cache(bool on = true);
  void clear_teacher_cache() { cache_.clear(); }
  std::size_t teacher_cache_size() const { return cache_.size(); }

  // The forward and the losses (see the header comment); indices int64 [N] sample ids or empty.
  StepResult step(const Tensor& x, const Tensor& y, const std::vector<std::int64_t>& indices = {});
  // optimizer.zero_grad(); r = step(...); r.total.backward(); optimizer.step(); returns r.
  StepResult train_step(optim::Optimizer& optimizer, const Tensor& x, const Tensor& y,
                        const std::vector<std::int64_t>& indices = {});
  // Per term: analytic estimate (Term::cost) and measured forward / backward time and peak bytes
  // for this batch (kd/cost.h, defined in kd/cost.cpp); the step counter does not move.
  std::vector<TermCost> term_costs(const Tensor& x, const Tensor& y,
                                   const std::vector<std::int64_t>& indices = {}, int repeats = 1);

  std::int64_t step_count() const { return step_; }
  void set_step(std::int64_t s) { step_ = s; }

  // For training checkpoints (nn/checkpoint.h), under `prefix`: the step counter (what the term
  // schedules read) and whether the cache is on, as values; the teacher-output cache as tensors
  // "<prefix>cache.index" int64 [M] (sorted) and "<prefix>cache.logits" [M, teachers, K]. The
  // terms' own modules (regressors, CRD) are modules: checkpoint their state dicts beside it.
  // load_state checks the keys and shapes (against the teacher count) before changing anything.
  void save_state(nn::Checkpoint& checkpoint, const std::string& prefix = "distiller.") const;
  void load_state(const nn::Checkpoint& checkpoint, const std::string& prefix = "distiller.");
  const std::vector<Term>& terms() const { return terms_; }
  nn::Module& student() { return *student_; }
  nn::Module& teacher(std::size_t i = 0) { return *teachers_.at(i); }

 private:
  Tensor teacher_forward(const Tensor& x, const std::vector<std::int64_t>& indices, Context& ctx,
                         bool& from_cache);
  // Steps 1–2 of step(): the teacher and student forwards and the tapped features.
  Context forward_context(const Tensor& x, const Tensor& y,
                          const std::vector<std::int64_t>& indices, bool& from_cache);

  std::shared_ptr<nn::Module> student_;
  std::vector<std::shared_ptr<nn::Module>> teachers_;
  std::vector<double> teacher_weights_;
  std::vector<Term> terms_;
  std::vector<nn::FeatureTap> student_taps_;
  std::vector<std::pair<std::string, nn::FeatureTap>> teacher_taps_;  // key, tap
  bool use_cache_ = false;
  std::unordered_map<std::int64_t, Tensor> cache_;  // sample index → each teacher's logits [T, K]
  std::int64_t step_ = 0;
};

}  // namespace retort::kd
