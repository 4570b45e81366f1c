// Cross-modal distillation's label-free terms (kd/crossmodal.h): a term that reads the labels
// fails under without_labels, the cross-modal KD term equals kd_loss and has the same value and
// gradient whatever the labels, and its float64 gradcheck.
#include "kd/crossmodal.h"

#include <catch2/catch.hpp>

#include "kd/response.h"
#include "nn/functional.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::kd;

TEST_CASE("without_labels hides the labels from a term", "[kd]") {
  Context c;
  c.student_logits = testing::random_tensor({5, 4}, kFloat32, 1);
  c.teacher_logits = testing::random_tensor({5, 4}, kFloat32, 2);
  c.targets = from_vector(std::vector<std::int64_t>{0, 1, 2, 3, 0}, {5});
  Term ce = without_labels({"ce", 1.0, [](const Context& x) {
                              return nn::functional::cross_entropy(x.student_logits, x.targets);
                            }});
  CHECK_THROWS_WITH(ce.fn(c), Catch::Contains("without_labels: term 'ce' failed without the labels"));
  // A term that only counts the labels sees none.
  Term count = without_labels({"count", 1.0, [](const Context& x) { return full({}, double(x.targets.numel())); }});
  CHECK(count.fn(c).item<double>() == 0);
  CHECK(count.name == "count");
}

TEST_CASE("the cross-modal KD term is label-free Hinton KD", "[kd]") {
  Tensor t = testing::grad_leaf({6, 5}, 8, false);
  Term term = crossmodal_kd_term(4.0, 0.5);
  CHECK(term.name == "kd");
  CHECK(term.weight == 0.5);
  auto value_and_grad = [&](const std::vector<std::int64_t>& labels) {
    Tensor s = testing::grad_leaf({6, 5}, 7);
    Context c;
    c.student_logits = s;
    c.teacher_logits = t;
    c.targets = from_vector(labels, {6});
    Tensor loss = term.fn(c);
    loss.backward();
    return std::pair{loss.item<double>(), s.grad()};
  };
  auto [v1, g1] = value_and_grad({0, 1, 2, 3, 4, 0});
  auto [v2, g2] = value_and_grad({4, 4, 4, 4, 4, 4});
  CHECK(v1 == v2);
  REQUIRE_ALLCLOSE(g1, g2, 0, 0);
  Tensor s = testing::grad_leaf({6, 5}, 7);
  CHECK(v1 == Approx(kd_loss(s, t, {.T = 4.0}).item<double>()).epsilon(1e-14));
  REQUIRE_GRADCHECK(
      [&](const std::vector<Tensor>& x) {
        Context c;
        c.student_logits = x[0];
        c.teacher_logits = t;
        return term.fn(c);
      },
      std::vector<Tensor>{s});
  CHECK_THROWS_WITH(crossmodal_kd_term(0.0), Catch::Contains("T must be > 0"));
}
