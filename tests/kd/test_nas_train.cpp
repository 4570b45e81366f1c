// The distillation side of the search (kd/nas_train.h): teacher logits and accuracy against
// direct forwards, KdTraining's first step against a hand-built Distiller step, resuming equal to
// one straight run, and a tiny end-to-end search (KdScorer inside successive halving, then the
// winner trained in full) on synthetic data that a student can learn from the teacher.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/nas_train.h"
#include "kd/response.h"
#include "nn/functional.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using namespace retort::kd;
using nn::ConvNetSpec;

namespace {

// Random 3×8×8 images labelled by the argmax of a random 4-class teacher: the teacher is right
// on every label, and its function is what a student has to learn.
struct Synthetic {
  std::shared_ptr<nn::ConvNet> teacher;
  Tensor x, y;
};

Synthetic synthetic(std::int64_t n, std::uint64_t seed) {
  manual_seed(seed);
  Synthetic s;
  s.teacher = std::make_shared<nn::ConvNet>(ConvNetSpec{{{1, 8, 3}, {1, 8, 3}}, 16}, 3, 4, 8);
  s.x = testing::random_tensor({n, 3, 8, 8}, kFloat32, seed + 1);
  NoGradGuard ng;
  s.teacher->eval();
  s.y = argmax((*s.teacher)(s.x), 1);
  return s;
}

nas::SearchSpace tiny_space() {
  nas::SearchSpace s;
  s.stages = {1, 2};
  s.convs = {1};
  s.widths = {2, 8};
  s.kernels = {1, 3};
  s.hidden = {0, 16};
  s.num_classes = 4;
  s.image_size = 8;
  return s;
}

std::vector<Tensor> params_of(nn::Module& m) {
  std::vector<Tensor> v;
  for (const Tensor& p : m.parameters()) v.push_back(p.clone());
  return v;
}

}  // namespace

TEST_CASE("nas::teacher_logits and nas::accuracy equal direct forwards") {
  Synthetic s = synthetic(70, 3);
  Tensor logits = nas::teacher_logits(*s.teacher, s.x, 32);
  NoGradGuard ng;
  REQUIRE_ALLCLOSE(logits, (*s.teacher)(s.x), 1e-6, 1e-6);
  REQUIRE(nas::accuracy(*s.teacher, s.x, s.y, 16) == 100.0);
  std::vector<std::int64_t> w = s.y.to_vector<std::int64_t>();
  for (auto& v : w) v = (v + 1) % 4;
  Tensor wrong = from_vector(w, {70});
  REQUIRE(nas::accuracy(*s.teacher, s.x, wrong, 16) == 0.0);
  REQUIRE(!s.teacher->is_training());  // eval before, eval after
}

TEST_CASE("nas::KdTraining's first step is 0.9·KD + 0.1·CE on the first shuffled batch") {
  Synthetic s = synthetic(40, 5);
  manual_seed(9);
  auto student = std::make_shared<nn::ConvNet>(ConvNetSpec{{{1, 4, 3}}, 0}, 3, 4, 8);
  const nas::KdTrainOptions opt{.T = 2, .batch = 16, .seed = 11};
  Tensor logits = nas::teacher_logits(*s.teacher, s.x);
  nas::KdTraining run(student, s.teacher, s.x, s.y, logits, opt);
  REQUIRE(run.steps_per_epoch() == 3);
  // The batch the training draws: the first 16 of Generator(seed)'s permutation.
  Generator g(11);
  Tensor idx = narrow(randperm(40, &g), 0, 0, 16);
  Tensor x = index_select(s.x, 0, idx), y = index_select(s.y, 0, idx);
  double want;
  {
    NoGradGuard ng;
    student->train();
    // no dropout in a hidden-less net: the loss is a function of the weights
    Tensor sl = (*student)(x), tl = index_select(logits, 0, idx);
    want = (0.9 * kd_loss(sl, tl, {.T = 2}) + 0.1 * nn::functional::cross_entropy(sl, y)).item<double>();
  }
  const double got = run.train(1);
  REQUIRE(got == Approx(want).epsilon(1e-6));
  REQUIRE(run.steps_done() == 1);
}

TEST_CASE("nas::KdTraining resumed in pieces equals one straight run, whatever runs in between") {
  Synthetic s = synthetic(50, 6);
  Tensor logits = nas::teacher_logits(*s.teacher, s.x);
  const ConvNetSpec spec{{{1, 4, 3}}, 8};  // a hidden layer: Dropout draws from the global stream
  const nas::KdTrainOptions opt{.batch = 16, .seed = 3};
  auto make = [&] {
    manual_seed(1);
    return std::make_shared<nn::ConvNet>(spec, 3, 4, 8);
  };
  auto a = make();
  nas::KdTraining straight(a, s.teacher, s.x, s.y, logits, opt);
  straight.train(9);
  auto b = make();
  nas::KdTraining pieces(b, s.teacher, s.x, s.y, logits, opt);
  pieces.train(2);
  auto c = make();
  nas::KdTraining other(c, s.teacher, s.x, s.y, {}, opt);  // live teacher, cached on first sight
  other.train(5);
  randn({100});  // the caller draws from the global generator too
  pieces.train(7);
  auto pa = params_of(*a), pb = params_of(*b), pc = params_of(*c);
  for (std::size_t i = 0; i < pa.size(); ++i) REQUIRE(testing::max_abs_diff(pa[i], pb[i]) == 0.0);
  // The live-teacher training saw the same logits: after 5 steps it is straight's after 5 steps.
  auto d = make();
  nas::KdTraining five(d, s.teacher, s.x, s.y, logits, opt);
  five.train(5);
  auto pd = params_of(*d);
  for (std::size_t i = 0; i < pa.size(); ++i) REQUIRE(testing::max_abs_diff(pc[i], pd[i]) < 1e-6);
}

TEST_CASE("nas: a tiny end-to-end search picks a candidate, the winner trained in full learns") {
  Synthetic train = synthetic(384, 21), val;
  // The validation split: other images, labelled by the same teacher.
  val.x = testing::random_tensor({128, 3, 8, 8}, kFloat32, 99);
  {
    NoGradGuard ng;
    val.y = argmax((*train.teacher)(val.x), 1);
  }
  const nas::SearchSpace space = tiny_space();
  const nas::Budget budget{.max_params = 1500, .max_macs = 12000};
  auto candidates = nas::sample(space, budget, 4, 5);
  const nas::KdTrainOptions opt{.batch = 32, .lr = 3e-3, .seed = 2};
  auto search = [&] {
    nas::KdScorer scorer(train.teacher, train.x, train.y, val.x, val.y, space, opt);
    auto r = nas::successive_halving(candidates, std::ref(scorer), {.min_budget = 6, .eta = 2});
    // Each score is the validation accuracy of the candidate's net after its training so far.
    REQUIRE(r.score(1, r.winner) == nas::accuracy(scorer.training(r.winner).student(), val.x, val.y));
    REQUIRE(scorer.training(r.winner).steps_done() == 12);
    return r;
  };
  nas::HalvingResult r = search();
  REQUIRE(r.rounds.size() == 2);
  REQUIRE(r.rounds[0].kept.size() == 2);
  for (std::size_t i = 0; i < 4; ++i) {
    REQUIRE(r.score(0, i) >= 0);
    REQUIRE(r.score(0, i) <= 100);
  }
  REQUIRE(search().winner == r.winner);  // deterministic
  REQUIRE(search().rounds[0].scores == r.rounds[0].scores);
  // The winner trained in full from a fresh start learns the teacher's function well above chance.
  manual_seed(2);
  auto net = std::make_shared<nn::ConvNet>(r.specs[r.winner], 3, 4, 8);
  nas::KdTraining full(net, train.teacher, train.x, train.y, nas::teacher_logits(*train.teacher, train.x), opt);
  const double before = nas::accuracy(*net, val.x, val.y);
  full.train(20 * full.steps_per_epoch());
  const double after = nas::accuracy(*net, val.x, val.y);
  INFO("winner " << r.specs[r.winner].describe() << ": " << before << "% -> " << after << "%");
  REQUIRE(after > 50.0);
  REQUIRE(after > before + 10.0);
}
