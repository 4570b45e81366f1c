// CRD (kd/crd.h) against a PyTorch transcription of RepDistiller's CRDLoss with given
// contrast indices: loss, ∂loss/∂f_s, the embed layers' gradients, the Z constants and the
// memory banks after each of two steps; float64 gradcheck with frozen banks; seeded sampling;
// the detached teacher; errors naming the shapes.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/crd.h"
#include "kd_fixture.h"
#include "support/helpers.h"
#include "tensor/views.h"

using namespace retort;
using namespace retort::kd;
using retort::testing::random_tensor;

namespace {
const testing::KdFixture& fx() {
  static testing::KdFixture f = testing::read_kd_fixture("crd.txt");
  return f;
}

// n_data 20, K 4, F 8, s_dim 6, t_dim 5 (the fixture's contrast indices are given: Uniform
// negatives need no labels).
CrdOptions small(std::uint64_t seed = 0) {
  return {.T = 0.07, .feat_dim = 8, .nce_k = 4, .momentum = 0.5,
          .negatives = CrdNegatives::Uniform, .seed = seed};
}

// The small CRD with the fixture's weights and memories.
std::shared_ptr<CRD> fixture_crd() {
  auto crd = std::make_shared<CRD>(6, 5, 20, small());
  crd->to(kFloat64);
  crd->embed_s->linear->weight.copy_(fx().t("ws"));
  crd->embed_s->linear->bias.copy_(fx().t("bs"));
  crd->embed_t->linear->weight.copy_(fx().t("wt"));
  crd->embed_t->linear->bias.copy_(fx().t("bt"));
  crd->contrast->memory_v1.copy_(fx().t("mem1"));
  crd->contrast->memory_v2.copy_(fx().t("mem2"));
  return crd;
}

Tensor ints(const char* name) { return fx().t(name).to(kInt64); }

void check_step(CRD& crd, const std::string& name, const char* fs, const char* ft,
                const char* idx, const char* cidx) {
  INFO("step " << name);
  crd.zero_grad();
  testing::check_kd_case(fx(), name, [&](const Tensor& x) {
    return crd.forward(x, fx().t(ft), ints(idx), ints(cidx));
  }, fx().t(fs));
  REQUIRE_ALLCLOSE(crd.embed_s->linear->weight.grad(), fx().t(name + "_d_ws"), 1e-10, 1e-9);
  REQUIRE_ALLCLOSE(crd.embed_t->linear->weight.grad(), fx().t(name + "_d_wt"), 1e-10, 1e-9);
  REQUIRE_ALLCLOSE(crd.embed_t->linear->bias.grad(), fx().t(name + "_d_bt"), 1e-10, 1e-9);
  REQUIRE_ALLCLOSE(crd.contrast->memory_v1, fx().t(name + "_mem1"), 1e-12, 1e-10);
  REQUIRE_ALLCLOSE(crd.contrast->memory_v2, fx().t(name + "_mem2"), 1e-12, 1e-10);
  REQUIRE_ALLCLOSE(narrow(crd.contrast->params, 0, 2, 2), fx().t(name + "_z"), 1e-12, 1e-10);
}
}  // namespace

TEST_CASE("crd: two steps match RepDistiller (loss, gradients, Z, memory update)", "[kd]") {
  auto crd = fixture_crd();
  std::vector<double> p = crd->contrast->params.to_vector<double>();
  REQUIRE(p == std::vector<double>{4.0, static_cast<double>(0.07f), -1.0, -1.0, 0.5});
  check_step(*crd, "crd_first", "fs", "ft", "idx", "cidx");
  check_step(*crd, "crd_second", "fs2", "ft2", "idx2", "cidx2");  // Z kept from step one
  // Updated rows are unit vectors; untouched rows keep their initial values.
  Tensor m1 = crd->contrast->memory_v1;
  REQUIRE(norm(ops::select(m1, 0, 17)).item<double>() == Approx(1.0).epsilon(1e-12));
  REQUIRE_ALLCLOSE(ops::select(m1, 0, 1), ops::select(fx().t("mem1"), 0, 1), 0.0, 0.0);
}

TEST_CASE("crd: state-dict keys as RepDistiller, memory init and seeded sampling", "[kd]") {
  CRD crd(6, 5, 20, small());
  std::vector<std::string> keys;
  for (auto& [k, v] : crd.state_dict()) keys.push_back(k);
  REQUIRE(keys == std::vector<std::string>{"embed_s.linear.weight", "embed_s.linear.bias",
                                           "embed_t.linear.weight", "embed_t.linear.bias",
                                           "contrast.params", "contrast.memory_v1",
                                           "contrast.memory_v2"});
  REQUIRE(crd.parameters().size() == 4);  // the memories are buffers, not trained
  const double bound = 1.0 / std::sqrt(8.0 / 3.0);
  for (double v : crd.contrast->memory_v1.to_vector<float>()) REQUIRE(std::abs(v) <= bound);
  CRD same(6, 5, 20, small()), other(6, 5, 20, small(99));
  REQUIRE_ALLCLOSE(crd.contrast->memory_v2, same.contrast->memory_v2, 0.0, 0.0);
  REQUIRE_FALSE(testing::allclose(crd.contrast->memory_v2, other.contrast->memory_v2, 0.0, 0.0));
  Tensor idx = from_vector(std::vector<std::int64_t>{5, 0, 19}, {3});
  Tensor c1 = crd.sampler.draw(idx, 4), c2 = same.sampler.draw(idx, 4);
  REQUIRE(c1.sizes() == Shape{3, 5});
  REQUIRE(c1.to_vector<std::int64_t>() == c2.to_vector<std::int64_t>());
  for (std::int64_t n = 0; n < 3; ++n)
    REQUIRE(ops::select(c1, 0, n).to_vector<std::int64_t>()[0] == idx.to_vector<std::int64_t>()[n]);
  for (std::int64_t v : c1.to_vector<std::int64_t>()) REQUIRE((v >= 0 && v < 20));
  // Without contrast_idx the forward draws its own negatives and stays finite.
  Tensor fs = random_tensor({3, 6}, kFloat32, 1).set_requires_grad(true);
  Tensor loss = crd.forward(fs, random_tensor({3, 5}, kFloat32, 2), idx);
  REQUIRE(std::isfinite(loss.item<float>()));
  loss.backward();
  for (float g : fs.grad().to_vector<float>()) REQUIRE(std::isfinite(g));
  for (auto& prm : crd.parameters()) REQUIRE(prm.grad().defined());
}

TEST_CASE("crd: gradcheck with frozen memories, detached teacher", "[kd]") {
  auto crd = fixture_crd();
  Tensor idx = ints("idx"), cidx = ints("cidx");
  crd->forward(fx().t("fs"), fx().t("ft"), idx, cidx);  // sets Z
  Tensor m1 = crd->contrast->memory_v1.clone(), m2 = crd->contrast->memory_v2.clone();
  const Tensor& ft = fx().t("ft");
  auto loss = [&](const std::vector<Tensor>& x) {
    crd->contrast->memory_v1.copy_(m1);  // every evaluation sees the same banks
    crd->contrast->memory_v2.copy_(m2);
    return crd->forward(x[0], ft, idx, cidx);
  };
  std::vector<Tensor> inputs{fx().t("fs").clone().set_requires_grad(true)};
  for (auto& p : crd->parameters()) inputs.push_back(p);
  REQUIRE_GRADCHECK(loss, inputs);
  testing::check_teacher_detached([&](auto& a, auto& b) { return crd->forward(a, b, idx, cidx); },
                                  fx().t("fs"), ft);
}

TEST_CASE("crd: errors name the shapes", "[kd]") {
  CRD crd(6, 5, 20, small());
  Tensor fs = zeros({3, 6}), ft = zeros({3, 5});
  Tensor idx = from_vector(std::vector<std::int64_t>{1, 2, 3}, {3});
  REQUIRE_THROWS_WITH(crd.forward(fs, zeros({4, 5}), idx),
                      Catch::Contains("CRD") && Catch::Contains("[3,6]") &&
                          Catch::Contains("[4,5]"));
  REQUIRE_THROWS_WITH(crd.forward(fs, ft, from_vector(std::vector<std::int64_t>{1, 2}, {2})),
                      Catch::Contains("CRD: idx") && Catch::Contains("[2]"));
  REQUIRE_THROWS_WITH(crd.forward(fs, ft, idx, zeros({3, 4}, kInt64)),
                      Catch::Contains("contrast_idx") && Catch::Contains("[3,4]") &&
                          Catch::Contains("[3, 5]"));
  REQUIRE_THROWS_WITH(crd.forward(zeros({3, 7}), ft, idx),
                      Catch::Contains("Embed") && Catch::Contains("[3,7]"));
}

TEST_CASE("crd: the loaded state's settings are authoritative", "[kd]") {
  auto a = fixture_crd();
  CRD b(6, 5, 20, {.T = 0.5, .feat_dim = 8, .nce_k = 3, .momentum = 0.9,
                   .negatives = CrdNegatives::Uniform, .seed = 7});
  b.to(kFloat64);
  nn::TensorMap state;
  for (auto& [k, v] : a->state_dict()) state[k] = v.clone();
  b.load_state_dict(state);
  REQUIRE(b.contrast->nce_k() == 4);
  REQUIRE(b.contrast->temperature() == static_cast<double>(0.07f));  // the buffer's float32 τ
  REQUIRE(b.contrast->momentum() == 0.5);
  // Same state, same indices: the same loss and the same memories afterwards.
  Tensor idx = ints("idx"), cidx = ints("cidx");
  double la = a->forward(fx().t("fs"), fx().t("ft"), idx, cidx).item<double>();
  double lb = b.forward(fx().t("fs"), fx().t("ft"), idx, cidx).item<double>();
  REQUIRE(lb == la);
  REQUIRE_ALLCLOSE(b.contrast->memory_v1, a->contrast->memory_v1, 0.0, 0.0);
  // A drawn batch follows the loaded K, not the constructor's.
  REQUIRE(b.sampler.draw(idx, b.contrast->nce_k()).size(1) == 5);
  REQUIRE_THROWS_WITH(b.forward(fx().t("fs"), fx().t("ft"), idx, zeros({idx.size(0), 4}, kInt64)),
                      Catch::Contains("K = 4 from params"));
  // A loaded buffer with an impossible setting is refused at the next forward.
  state["contrast.params"] = from_vector(std::vector<double>{4, -0.1, -1, -1, 0.5}, {5}, kFloat64);
  b.load_state_dict(state);
  REQUIRE_THROWS_WITH(b.forward(fx().t("fs"), fx().t("ft"), idx, cidx),
                      Catch::Contains("params[1] (T)") && Catch::Contains("-0.1"));
  state["contrast.params"] = from_vector(std::vector<double>{2.5, 0.1, -1, -1, 0.5}, {5}, kFloat64);
  b.load_state_dict(state);
  REQUIRE_THROWS_WITH(b.forward(fx().t("fs"), fx().t("ft"), idx, cidx),
                      Catch::Contains("params[0]") && Catch::Contains("2.5"));
}

TEST_CASE("crd: class-aware negatives as RepDistiller's CIFAR100InstanceSample", "[kd]") {
  // 30 samples, 3 classes of 10 (sample i has class i % 3): 20 negatives per class.
  std::vector<std::int64_t> lab(30);
  for (std::int64_t i = 0; i < 30; ++i) lab[static_cast<std::size_t>(i)] = i % 3;
  Tensor labels = from_vector(lab, {30});
  Tensor idx = from_vector(std::vector<std::int64_t>{0, 4, 29, 4}, {4});
  auto check = [&](CrdNegatives mode, std::int64_t k, bool distinct) {
    INFO("mode " << static_cast<int>(mode) << ", K " << k);
    ContrastSampler s(mode, labels, Generator(3)), again(mode, labels, Generator(3));
    Tensor c = s.draw(idx, k);
    REQUIRE(c.sizes() == (Shape{4, k + 1}));
    REQUIRE(c.to_vector<std::int64_t>() == again.draw(idx, k).to_vector<std::int64_t>());
    for (std::int64_t r = 0; r < 4; ++r) {
      std::vector<std::int64_t> row = ops::select(c, 0, r).contiguous().to_vector<std::int64_t>();
      const std::int64_t i = idx.to_vector<std::int64_t>()[static_cast<std::size_t>(r)];
      if (mode == CrdNegatives::ClassExact) REQUIRE(row[0] == i);
      REQUIRE(row[0] % 3 == i % 3);  // relax: a sample of the same class
      std::vector<int> seen(30, 0);
      for (std::size_t j = 1; j < row.size(); ++j) {
        REQUIRE((row[j] >= 0 && row[j] < 30));
        REQUIRE(row[j] % 3 != i % 3);  // never the anchor's class
        ++seen[static_cast<std::size_t>(row[j])];
      }
      if (distinct)
        for (int n : seen) REQUIRE(n <= 1);
    }
  };
  check(CrdNegatives::ClassExact, 5, true);    // K ≤ M/2: rejection of repeats
  check(CrdNegatives::ClassExact, 15, true);   // K > M/2: partial shuffle
  check(CrdNegatives::ClassExact, 20, true);   // every negative exactly once
  check(CrdNegatives::ClassExact, 25, false);  // K > M: with replacement
  check(CrdNegatives::ClassRelax, 5, true);
  // Uniform over the negatives: 4000 draws of 5 cover the 20 evenly (each ≈ 1000 ± 3σ).
  ContrastSampler s(CrdNegatives::ClassExact, labels, Generator(1));
  std::vector<int> count(30, 0);
  Tensor one = from_vector(std::vector<std::int64_t>{3}, {1});
  for (int t = 0; t < 4000; ++t)
    for (std::int64_t v : s.draw(one, 5).to_vector<std::int64_t>()) ++count[static_cast<std::size_t>(v)];
  for (std::int64_t i = 1; i < 30; ++i)
    if (i % 3 != 0) REQUIRE(std::abs(count[static_cast<std::size_t>(i)] - 1000) < 100);
  // The module draws them when no contrast_idx is given; labels fix n_data.
  CRD crd(6, 5, labels, {.feat_dim = 8, .nce_k = 6});
  REQUIRE(crd.contrast->n_data == 30);
  Tensor loss = crd.forward(random_tensor({4, 6}, kFloat32, 1), random_tensor({4, 5}, kFloat32, 2), idx);
  REQUIRE(std::isfinite(loss.item<float>()));
  // Errors: class-aware without labels, labels of one class, bad idx.
  REQUIRE_THROWS_WITH(CRD(6, 5, 30, CrdOptions{}), Catch::Contains("labels") &&
                                                      Catch::Contains("Uniform"));
  REQUIRE_THROWS_WITH(CRD(6, 5, zeros({30}, kInt64)), Catch::Contains("two classes"));
  REQUIRE_THROWS_WITH(s.draw(from_vector(std::vector<std::int64_t>{30}, {1}), 5),
                      Catch::Contains("idx value 30") && Catch::Contains("[0, 30)"));
}

TEST_CASE("crd: created directly in float64", "[kd]") {
  CRD crd(6, 5, 20, small(), TensorOptions{kFloat64});
  for (auto& [k, v] : crd.state_dict()) {
    INFO(k);
    REQUIRE(v.dtype() == kFloat64);
  }
  REQUIRE(crd.contrast->temperature() == 0.07);  // no float32 rounding on the way
  Tensor idx = from_vector(std::vector<std::int64_t>{1, 2, 3}, {3});
  Tensor fs = random_tensor({3, 6}, kFloat64, 1).set_requires_grad(true);
  Tensor loss = crd.forward(fs, random_tensor({3, 5}, kFloat64, 2), idx);
  REQUIRE(loss.dtype() == kFloat64);
  loss.backward();
  REQUIRE(fs.grad().dtype() == kFloat64);
}
