// The seed nets against PyTorch: with the formula weights of tests/tools/make_nn_fixtures.py,
// Retort's TeacherNet and StudentNet must reproduce torch's logits, cross-entropy loss and every
// parameter gradient (sum, sum of squares, sampled entries) — exactly in float64, closely in
// float32 — and load torch-written safetensors weights.
#include <cmath>

#include "fixture_util.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "nn/serialization.h"
#include "retort_config.h"
#include "support/helpers.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#endif

using namespace retort;
using namespace retort::nn;

namespace {

struct Tol {
  double atol_logits, rtol_logits;
  double rel_grad;  // gradient errors relative to the tensor's RMS gradient (or sum norm)
};

// Builds Net with the formula weights in dtype, checks logits, loss and gradients.
template <class Net>
void check_net(const std::string& fixture, DType dtype, const Tol& tol) {
  testing::NetFixture f = testing::read_net_fixture(fixture);
  auto net = std::make_shared<Net>(f.c, f.classes, f.s);
  net->to(dtype);
  testing::formula_weights(*net);
  net->eval();  // Dropout off, as in the fixture
  Tensor x = testing::formula_input(f.n, f.c, f.s, dtype);
  Tensor y = testing::formula_labels(f.n, f.classes);
  Tensor logits = (*net)(x);
  REQUIRE(logits.dtype() == dtype);
  REQUIRE_ALLCLOSE(logits, from_vector(f.logits, {f.n, f.classes}, kFloat64), tol.atol_logits,
                   tol.rtol_logits);
  Tensor loss = F::cross_entropy(logits, y);
  REQUIRE(loss.item<double>() == Approx(f.loss).epsilon(tol.rtol_logits).margin(tol.atol_logits));
  loss.backward();

  auto params = net->named_parameters();
  REQUIRE(params.size() == f.grads.size());
  for (std::size_t k = 0; k < params.size(); ++k) {
    const auto& want = f.grads[k];
    const std::string& name = params[k].first;
    const Tensor& p = params[k].second;
    INFO(name);
    REQUIRE(name == want.name);
    REQUIRE(p.numel() == want.numel);
    REQUIRE(p.grad().defined());
    std::vector<double> g = p.grad().to_vector<double>();
    double s = 0, sq = 0;
    for (double v : g) {
      s += v;
      sq += v * v;
    }
    double norm = std::sqrt(want.sumsq),
           rms = std::sqrt(want.sumsq / static_cast<double>(want.numel));
    REQUIRE(std::abs(s - want.sum) <= tol.rel_grad * norm);
    REQUIRE(std::abs(sq - want.sumsq) <= 2 * tol.rel_grad * want.sumsq);
    for (const auto& [i, v] : want.samples) {
      INFO("element " << i << ": " << g[static_cast<std::size_t>(i)] << " vs " << v);
      REQUIRE(std::abs(g[static_cast<std::size_t>(i)] - v) <=
              tol.rel_grad * rms + tol.rel_grad * std::abs(v));
    }
  }
}

const Tol kTol64{1e-10, 1e-9, 1e-9};
const Tol kTol32{2e-4, 1e-3, 2e-3};

}  // namespace

TEST_CASE("StudentNet reproduces PyTorch: logits, loss, all gradients (float64)") {
  check_net<StudentNet>("student_net.txt", kFloat64, kTol64);
}

TEST_CASE("StudentNet reproduces PyTorch in float32 (fast paths)") {
  check_net<StudentNet>("student_net.txt", kFloat32, kTol32);
}

TEST_CASE("StudentNet 1x28x28 (Fashion-MNIST shape) reproduces PyTorch") {
  check_net<StudentNet>("student_net_28.txt", kFloat64, kTol64);
  check_net<StudentNet>("student_net_28.txt", kFloat32, kTol32);
}

TEST_CASE("seed nets in float32 on the reference kernels (fast paths off)") {
#if RETORT_WITH_ONEDNN
  struct FastPathOff {
    bool was = onednn::enabled();
    FastPathOff() { onednn::set_enabled(false); }
    ~FastPathOff() { onednn::set_enabled(was); }
  } off;
#endif
  check_net<StudentNet>("student_net.txt", kFloat32, kTol32);
  check_net<TeacherNet>("teacher_net.txt", kFloat32, kTol32);
}

TEST_CASE("TeacherNet reproduces PyTorch: logits, loss, all gradients (float64)") {
  check_net<TeacherNet>("teacher_net.txt", kFloat64, kTol64);
}

TEST_CASE("TeacherNet reproduces PyTorch in float32 (fast paths)") {
  check_net<TeacherNet>("teacher_net.txt", kFloat32, kTol32);
}

TEST_CASE("a safetensors file written from torch loads into StudentNet and gives torch's logits") {
  auto net = std::make_shared<StudentNet>();
  Metadata meta;
  TensorMap sd = load_safetensors(testing::fixture_path("student_torch.safetensors"), &meta);
  REQUIRE(meta.at("format") == "pt");
  REQUIRE(sd.size() == 8);
  net->load_state_dict(sd);

  // The file holds float32 casts of the formula weights: bit-identical to ours.
  auto ref = std::make_shared<StudentNet>();
  testing::formula_weights(*ref);
  auto a = net->named_parameters(), b = ref->named_parameters();
  for (std::size_t k = 0; k < a.size(); ++k) {
    INFO(a[k].first);
    REQUIRE(a[k].second.to_vector<float>() == b[k].second.to_vector<float>());
  }
  net->eval();
  testing::NetFixture f = testing::read_net_fixture("student_net.txt");
  Tensor logits = (*net)(testing::formula_input(f.n, f.c, f.s, kFloat32));
  REQUIRE_ALLCLOSE(logits, from_vector(f.logits, {f.n, f.classes}, kFloat64), kTol32.atol_logits,
                   kTol32.rtol_logits);
}
