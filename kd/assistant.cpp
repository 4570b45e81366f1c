// Teacher-assistant chains. Each stage is a plain Distiller run so that a chain of one stage is
// exactly ordinary KD (the tests check it step for step), and every Distiller feature (cache,
// schedules, state) stays available to a caller who builds the stages by hand with
// make_assistant_distiller. The data loop is a hook because kd/ sits below data/ in the layering.
#include "kd/assistant.h"

#include <chrono>
#include <utility>

#include "nn/functional.h"
#include "tensor/error.h"

namespace retort::kd {

namespace {

void check_options(const ChainOptions& o) {
  RETORT_CHECK(o.T > 0, "assistant chain: T must be > 0, got ", o.T);
  RETORT_CHECK(o.lambda >= 0 && o.lambda <= 1, "assistant chain: lambda must be in [0, 1], got ",
               o.lambda);
  RETORT_CHECK(o.reduction == Reduction::BatchMean || o.reduction == Reduction::Mean ||
                   o.reduction == Reduction::Sum,
               "assistant chain: the KL reduction must give a scalar (BatchMean, Mean or Sum)");
}

}  // namespace

Distiller make_assistant_distiller(std::shared_ptr<nn::Module> student,
                                   std::shared_ptr<nn::Module> teacher,
                                   const ChainOptions& options) {
  check_options(options);
  Distiller d(std::move(student), std::move(teacher));
  Term ce;
  ce.name = "ce";
  ce.weight = 1.0 - options.lambda;
  ce.fn = [](const Context& c) { return nn::functional::cross_entropy(c.student_logits, c.targets); };
  d.add_term(std::move(ce));
  Term kd;
  kd.name = "kd";
  kd.weight = options.lambda;
  kd.fn = [o = KdOptions{.T = options.T, .reduction = options.reduction}](const Context& c) {
    return kd_loss(c.student_logits, c.teacher_logits, o);
  };
  d.add_term(std::move(kd));
  d.enable_teacher_cache(options.cache_teacher);
  return d;
}

std::vector<StageResult> run_assistant_chain(std::shared_ptr<nn::Module> teacher,
                                             const std::vector<ChainStage>& stages,
                                             const ChainHooks& hooks,
                                             const ChainOptions& options) {
  RETORT_CHECK(!stages.empty(), "assistant chain: no stages");
  RETORT_CHECK(teacher != nullptr, "assistant chain: the teacher is null");
  RETORT_CHECK(hooks.epoch && hooks.optimizer && hooks.evaluate,
               "assistant chain: the epoch, optimizer and evaluate hooks are required");
  check_options(options);
  for (std::size_t k = 0; k < stages.size(); ++k) {
    RETORT_CHECK(static_cast<bool>(stages[k].make), "assistant chain: stage ", k, " '",
                 stages[k].name, "' has no factory");
    RETORT_CHECK(stages[k].epochs >= 1, "assistant chain: stage ", k, " '", stages[k].name,
                 "' needs epochs >= 1, got ", stages[k].epochs);
  }

  std::vector<StageResult> out;
  std::shared_ptr<nn::Module> previous = std::move(teacher);
  for (std::size_t k = 0; k < stages.size(); ++k) {
    const ChainStage& s = stages[k];
    StageResult r;
    r.name = s.name;
    r.model = s.make();
    RETORT_CHECK(r.model != nullptr, "assistant chain: the factory of stage ", k, " '", s.name,
                 "' returned null");
    r.params = r.model->num_parameters();
    // The model is built before the optimiser and both before any batch, so a factory that seeds
    // the global generator fixes the initial weights whatever came before.
    Distiller d = make_assistant_distiller(r.model, previous, options);
    std::unique_ptr<optim::Optimizer> opt = hooks.optimizer(*r.model, k);
    RETORT_CHECK(opt != nullptr, "assistant chain: the optimizer hook returned null for stage ", k);
    for (std::int64_t e = 0; e < s.epochs; ++e) {
      r.model->train();
      std::int64_t batch = 0;
      auto t0 = std::chrono::steady_clock::now();
      hooks.epoch(k, e, [&](const ChainBatch& b) {
        StepResult res = d.train_step(*opt, b.x, b.y, b.indices);
        ++r.steps;
        if (hooks.on_step) hooks.on_step({k, e, batch, &b, &res});
        ++batch;
      });
      r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      RETORT_CHECK(batch > 0, "assistant chain: stage ", k, " '", s.name, "' epoch ", e,
                   " had no batches");
      const double score = hooks.evaluate(*r.model);
      r.epoch_scores.push_back(score);
      r.score = score;
      if (hooks.on_epoch) hooks.on_epoch(k, e, score);
    }
    previous = r.model;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace retort::kd
