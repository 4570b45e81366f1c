// The label-free wrapper (see crossmodal.h). Clearing the targets in a copy rather than trusting
// the term's code makes "learns only from the teacher" a property that is checked on every step:
// Tensor's accessors throw on an undefined tensor.
#include "kd/crossmodal.h"

#include <exception>
#include <utility>

#include "kd/response.h"
#include "tensor/error.h"

namespace retort::kd {

Term without_labels(Term term) {
  RETORT_CHECK(term.fn != nullptr, "without_labels: term '", term.name, "' has no fn");
  TermFn inner = term.fn;
  const std::string name = term.name;
  term.fn = [inner, name](const Context& c) {
    Context blind = c;
    blind.targets = empty({0}, kInt64, c.student_logits.defined() ? c.student_logits.device() : kCPU);
    try {
      return inner(blind);
    } catch (const std::exception& e) {
      fail("without_labels: term '", name, "' failed without the labels (does it read them?): ", e.what());
    }
  };
  return term;
}

Term crossmodal_kd_term(double T, double weight) {
  RETORT_CHECK(T > 0, "crossmodal_kd_term: T must be > 0, got ", T);
  Term t{.name = "kd", .weight = weight, .fn = [T](const Context& c) {
            return kd_loss(c.student_logits, c.teacher_logits, {.T = T});
          }, .schedule = {}, .cost = {}};
  return without_labels(std::move(t));
}

}  // namespace retort::kd
