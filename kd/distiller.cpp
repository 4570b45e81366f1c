// Distiller: the teacher runs without a graph, the student with one, and the terms are plain
// functions of the Context, so a new loss needs no change here (docs/extending.md).
#include "kd/distiller.h"

#include <algorithm>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/shape.h"
#include "tensor/error.h"

namespace retort::kd {

namespace {

const Tensor& find_feature(const std::map<std::string, Tensor>& m, const std::string& path,
                           const char* side) {
  auto it = m.find(path);
  if (it != m.end()) return it->second;
  std::string known;
  for (const auto& [k, v] : m) known += (known.empty() ? "" : ", ") + k;
  fail("Distiller: no ", side, " tap '", path, "' (registered: ", known.empty() ? "none" : known,
       ")");
}

}  // namespace

const Tensor& Context::student(const std::string& path) const {
  return find_feature(student_features, path, "student");
}
const Tensor& Context::teacher(const std::string& path) const {
  return find_feature(teacher_features, path, "teacher");
}

Schedule linear_warmup(std::int64_t warmup_steps) {
  RETORT_CHECK(warmup_steps >= 1, "linear_warmup: warmup_steps must be >= 1, got ", warmup_steps);
  return [warmup_steps](std::int64_t step) {
    return std::min(1.0, static_cast<double>(step + 1) / static_cast<double>(warmup_steps));
  };
}

Distiller::Distiller(std::shared_ptr<nn::Module> student, std::shared_ptr<nn::Module> teacher)
    : Distiller(std::move(student), std::vector<std::shared_ptr<nn::Module>>{std::move(teacher)}) {}

Distiller::Distiller(std::shared_ptr<nn::Module> student,
                     std::vector<std::shared_ptr<nn::Module>> teachers,
                     std::vector<double> teacher_weights)
    : student_(std::move(student)), teachers_(std::move(teachers)),
      teacher_weights_(std::move(teacher_weights)) {
  RETORT_CHECK(student_ != nullptr, "Distiller: student is null");
  RETORT_CHECK(!teachers_.empty(), "Distiller: needs at least one teacher");
  if (teacher_weights_.empty()) teacher_weights_.assign(teachers_.size(), 1.0);
  RETORT_CHECK(teacher_weights_.size() == teachers_.size(), "Distiller: ", teachers_.size(),
               " teachers but ", teacher_weights_.size(), " teacher weights");
  for (std::size_t i = 0; i < teachers_.size(); ++i) {
    RETORT_CHECK(teachers_[i] != nullptr, "Distiller: teacher ", i, " is null");
    RETORT_CHECK(teacher_weights_[i] > 0, "Distiller: teacher weight ", i, " must be > 0, got ",
                 teacher_weights_[i]);
    // Offline KD: the teacher is frozen, so its parameters never enter a graph nor get a grad.
    teachers_[i]->requires_grad_(false);
    teachers_[i]->eval();
  }
}

void Distiller::add_term(Term term) {
  RETORT_CHECK(!term.name.empty(), "Distiller::add_term: a term needs a name");
  RETORT_CHECK(static_cast<bool>(term.fn), "Distiller::add_term: term '", term.name,
               "' has no function");
  for (const auto& t : terms_)
    RETORT_CHECK(t.name != term.name, "Distiller::add_term: duplicate term '", term.name, "'");
  terms_.push_back(std::move(term));
}

void Distiller::add_student_tap(const std::string& path) {
  student_taps_.push_back(student_->tap(path));
}

void Distiller::add_teacher_tap(const std::string& path, std::size_t teacher) {
  RETORT_CHECK(teacher < teachers_.size(), "Distiller::add_teacher_tap: teacher ", teacher,
               " out of range (", teachers_.size(), " teachers)");
  std::string key = teacher == 0 ? path : std::to_string(teacher) + ":" + path;
  teacher_taps_.emplace_back(key, teachers_[teacher]->tap(path));
}

void Distiller::enable_teacher_cache(bool on) {
  use_cache_ = on;
  if (!on) cache_.clear();
}

Tensor Distiller::teacher_forward(const Tensor& x, const std::vector<std::int64_t>& indices,
                                  Context& ctx, bool& from_cache) {
  NoGradGuard no_grad;
  const bool cacheable = use_cache_ && !indices.empty() && teacher_taps_.empty();
  from_cache = false;
  const std::int64_t n_teachers = static_cast<std::int64_t>(teachers_.size());
  double wsum = 0;
  for (double w : teacher_weights_) wsum += w;
  ctx.teacher_weights.clear();
  for (double w : teacher_weights_) ctx.teacher_weights.push_back(w / wsum);
  ctx.teacher_logits_each.clear();
  bool all = cacheable && std::all_of(indices.begin(), indices.end(),
                                      [&](std::int64_t i) { return cache_.count(i) > 0; });
  if (all) {
    std::vector<Tensor> rows;
    rows.reserve(indices.size());
    for (auto i : indices) rows.push_back(cache_.at(i));
    Tensor stacked = stack(rows, 0);  // [N, T, K]
    for (std::int64_t i = 0; i < n_teachers; ++i) ctx.teacher_logits_each.push_back(select(stacked, 1, i));
    from_cache = true;
  } else {
    for (std::int64_t i = 0; i < n_teachers; ++i) {
      // eval() every step: a caller's model->train() on a shared module must not turn on dropout.
      teachers_[i]->eval();
      ctx.teacher_logits_each.push_back((*teachers_[i])(x));
    }
    for (auto& [key, tap] : teacher_taps_) {
      ctx.teacher_features[key] = tap.output();
      tap.clear();
    }
    if (cacheable) {
      Tensor stacked = stack(ctx.teacher_logits_each, 1);  // [N, T, K]
      for (std::size_t r = 0; r < indices.size(); ++r)
        cache_[indices[r]] = select(stacked, 0, static_cast<std::int64_t>(r)).clone();
    }
  }
  // The same arithmetic whether the rows came from the cache or from the forwards, so a cached
  // step's mean logits are bit-identical to a fresh one's.
  Tensor logits;
  for (std::int64_t i = 0; i < n_teachers; ++i) {
    Tensor ti = ctx.teacher_logits_each[i] * teacher_weights_[i];
    logits = logits.defined() ? logits + ti : ti;
  }
  if (wsum != 1.0) logits = logits / wsum;
  return logits;
}

Tensor sum_over_teachers(const Context& c, const std::function<Tensor(const Tensor&)>& loss) {
  RETORT_CHECK(!c.teacher_logits_each.empty() && c.teacher_logits_each.size() == c.teacher_weights.size(),
               "sum_over_teachers: the Context holds ", c.teacher_logits_each.size(), " teacher logits and ",
               c.teacher_weights.size(), " weights (filled by Distiller::step)");
  Tensor total;
  for (std::size_t i = 0; i < c.teacher_logits_each.size(); ++i) {
    Tensor li = loss(c.teacher_logits_each[i]) * c.teacher_weights[i];
    total = total.defined() ? total + li : li;
  }
  return total;
}

Context Distiller::forward_context(const Tensor& x, const Tensor& y,
                                   const std::vector<std::int64_t>& indices, bool& from_cache) {
  RETORT_CHECK(!terms_.empty(), "Distiller::step: no loss terms registered");
  RETORT_CHECK(indices.empty() || static_cast<std::int64_t>(indices.size()) == x.size(0),
               "Distiller::step: input ", shape_str(x.sizes()), " but ", indices.size(),
               " sample indices");
  Context ctx;
  ctx.step = step_;
  ctx.targets = y;
  ctx.teacher_logits = teacher_forward(x, indices, ctx, from_cache);
  ctx.student_logits = (*student_)(x);
  for (auto& tap : student_taps_) {
    ctx.student_features[tap.path()] = tap.output();
    // The Context holds the features now; the tap would otherwise pin them until the next step.
    tap.clear();
  }
  return ctx;
}

StepResult Distiller::step(const Tensor& x, const Tensor& y,
                           const std::vector<std::int64_t>& indices) {
  StepResult r;
  r.step = step_;
  Context ctx = forward_context(x, y, indices, r.teacher_from_cache);
  for (const auto& term : terms_) {
    Tensor l = term.fn(ctx);
    RETORT_CHECK(l.defined() && l.numel() == 1, "Distiller: term '", term.name,
                 "' must return a scalar, got ", l.defined() ? shape_str(l.sizes()) : "undefined");
    double lambda = term.weight * (term.schedule ? term.schedule(step_) : 1.0);
    Tensor weighted = l * lambda;
    r.total = r.total.defined() ? r.total + weighted : weighted;
    r.names.push_back(term.name);
    r.values.push_back(l.item<double>());
    r.weights.push_back(lambda);
    r.terms.push_back(std::move(l));
  }
  r.student_logits = ctx.student_logits;
  r.teacher_logits = ctx.teacher_logits;
  ++step_;
  return r;
}

StepResult Distiller::train_step(optim::Optimizer& optimizer, const Tensor& x, const Tensor& y,
                                 const std::vector<std::int64_t>& indices) {
  optimizer.zero_grad();
  StepResult r = step(x, y, indices);
  r.total.backward();
  optimizer.step();
  return r;
}

}  // namespace retort::kd
