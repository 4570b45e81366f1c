// Raw batch norm: training / eval values and the running-statistics update against hand-computed
// numbers (PyTorch semantics), the oneDNN fast path (ops::, float32) against the reference loops
// (cpu::) for [N,C] and [N,C,H,W] in NCHW and channels-last layouts, backward, errors.
#include <cmath>

#include "support/helpers.h"
#include "tensor/batch_norm.h"
#include "tensor/cpu/batch_norm.h"
#include "tensor/views.h"

using namespace retort;
using testing::random_tensor;

namespace {
const std::vector<double> kX{1, 10, 2, 20, 3, 30, 4, 40};  // [4,2]: channel 0 = 1..4, 1 = 10..40
}  // namespace

TEST_CASE("batch_norm training normalises by batch stats and updates running stats", "[tensor][batch_norm]") {
  for (DType t : {kFloat32, kFloat64}) {
    Tensor x = from_vector(kX, {4, 2}, t);
    Tensor w = from_vector({2, 0.5}, {2}, t), b = from_vector({1, -1}, {2}, t);
    Tensor rm = zeros({2}, t), rv = ones({2}, t);
    auto r = ops::batch_norm_train(x, w, b, rm, rv, 0.1, 1e-5);
    // μ = [2.5, 25], biased σ² = [1.25, 125]; y = (x − μ)/√(σ² + 1e-5)·w + b.
    REQUIRE_ALLCLOSE(r.mean, from_vector({2.5, 25}, {2}, kFloat64), 1e-5, 1e-6);
    REQUIRE_ALLCLOSE(r.var, from_vector({1.25, 125}, {2}, kFloat64), 1e-5, 1e-6);
    Tensor expect = from_vector({-1.6832708399378542, -1.6708203664171228, 0.10557638668738178,
                                 -1.2236067888057076, 1.8944236133126178, -0.7763932111942924,
                                 3.6832708399378538, -0.3291796335828772},
                                {4, 2}, kFloat64);
    REQUIRE_ALLCLOSE(r.y, expect, 1e-5, 1e-5);
    // Running stats: 0.9·r + 0.1·stat, variance unbiased (σ²·4/3 = [5/3, 500/3]).
    REQUIRE_ALLCLOSE(rm, from_vector({0.25, 2.5}, {2}, kFloat64), 1e-6, 1e-6);
    REQUIRE_ALLCLOSE(rv, from_vector({0.9 + 0.1 * 5 / 3.0, 0.9 + 0.1 * 500 / 3.0}, {2}, kFloat64), 1e-5, 1e-6);

    // Eval with those running stats: y = (x − rm)/√(rv + eps)·w + b.
    Tensor ye = ops::batch_norm_eval(x, w, b, rm, rv, 1e-5);
    Tensor expect_eval = from_vector({2.452361946897111, -0.10528140405649555, 4.3888445427599265,
                                      1.087676723868177, 6.325327138622741, 2.2806348517928496,
                                      8.261809734485556, 3.4735929797175222},
                                     {4, 2}, kFloat64);
    REQUIRE_ALLCLOSE(ye, expect_eval, 1e-5, 1e-5);
    // Undefined running stats: nothing to update, output unchanged.
    REQUIRE_ALLCLOSE(ops::batch_norm_train(x, w, b, Tensor(), Tensor(), 0.1, 1e-5).y, expect, 1e-5, 1e-5);
  }
}

TEST_CASE("batch_norm fast path matches the reference for 4-D inputs in both layouts", "[tensor][batch_norm]") {
  // Odd sizes, C not a multiple of 8, batch 1 with H·W > 1.
  for (Shape s : {Shape{3, 5, 7, 9}, Shape{1, 3, 5, 3}, Shape{6, 13}}) {
    Tensor packed = random_tensor(s, kFloat32, 1, 2.0);
    std::vector<Tensor> inputs{packed};
    if (s.size() == 4) {  // channels-last: memory order N,H,W,C
      Tensor nhwc = random_tensor({s[0], s[2], s[3], s[1]}, kFloat32, 2, 2.0);
      inputs.push_back(ops::permute(nhwc, {0, 3, 1, 2}));
    }
    const std::int64_t C = s[1];
    Tensor w = random_tensor({C}, kFloat32, 3), b = random_tensor({C}, kFloat32, 4);
    for (const Tensor& x : inputs) {
      Tensor rm_f = zeros({C}), rv_f = ones({C});
      auto f = ops::batch_norm_train(x, w, b, rm_f, rv_f, 0.1, 1e-5);
      auto ref = cpu::batch_norm_stats(x);
      Tensor yref = cpu::batch_norm_normalize(x, w, b, ref.mean, ref.var, 1e-5);
      for (std::int64_t d = 0; d < x.dim(); ++d)  // output keeps the input's layout
        if (x.size(d) > 1) REQUIRE(f.y.stride(d) == x.stride(d));
      REQUIRE_ALLCLOSE(f.y, yref, 1e-4, 1e-4);
      REQUIRE_ALLCLOSE(f.mean, ref.mean, 1e-5, 1e-5);
      REQUIRE_ALLCLOSE(f.var, ref.var, 1e-5, 1e-4);
      // The reference dispatch (float64) updates running stats to the same values.
      Tensor rm64 = zeros({C}, kFloat64), rv64 = ones({C}, kFloat64);
      ops::batch_norm_train(x.to(kFloat64), w.to(kFloat64), b.to(kFloat64), rm64, rv64, 0.1, 1e-5);
      REQUIRE_ALLCLOSE(rm_f, rm64, 1e-5, 1e-5);
      REQUIRE_ALLCLOSE(rv_f, rv64, 1e-5, 1e-4);
      // Eval and no-affine.
      REQUIRE_ALLCLOSE(ops::batch_norm_eval(x, w, b, rm_f, rv_f, 1e-3),
                       cpu::batch_norm_normalize(x, w, b, rm_f, rv_f, 1e-3), 1e-4, 1e-4);
      REQUIRE_ALLCLOSE(ops::batch_norm_train(x, Tensor(), Tensor(), Tensor(), Tensor(), 0.1, 1e-5).y,
                       cpu::batch_norm_normalize(x, Tensor(), Tensor(), ref.mean, ref.var, 1e-5), 1e-4, 1e-4);
    }
  }
}

TEST_CASE("batch_norm backward fast path matches the reference", "[tensor][batch_norm]") {
  for (Shape s : {Shape{4, 6, 5, 3}, Shape{2, 3, 1, 7}, Shape{9, 5}}) {
    const std::int64_t C = s[1];
    Tensor x = random_tensor(s, kFloat32, 5, 1.5), g = random_tensor(s, kFloat32, 6);
    Tensor w = random_tensor({C}, kFloat32, 7);
    std::vector<Tensor> xs{x}, gs{g};
    if (s.size() == 4) {
      xs.push_back(ops::permute(random_tensor({s[0], s[2], s[3], s[1]}, kFloat32, 8), {0, 3, 1, 2}));
      gs.push_back(ops::permute(random_tensor({s[0], s[2], s[3], s[1]}, kFloat32, 9), {0, 3, 1, 2}));
    }
    for (const Tensor& xi : xs)
      for (const Tensor& gi : gs)
        for (bool training : {true, false}) {
          auto st = cpu::batch_norm_stats(xi);
          auto f = ops::batch_norm_backward(gi, xi, w, st.mean, st.var, 1e-5, training);
          auto r = cpu::batch_norm_backward(gi, xi, w, st.mean, st.var, 1e-5, training);
          REQUIRE_ALLCLOSE(f.gx, r.gx, 1e-4, 1e-3);
          REQUIRE_ALLCLOSE(f.gweight, r.gweight, 1e-3, 1e-4);
          REQUIRE_ALLCLOSE(f.gbias, r.gbias, 1e-4, 1e-4);
        }
  }
  // Hand check (training, one channel x = [1, 3], no affine, eps 0): μ = 2, σ² = 1, x̂ = [−1, 1];
  // g = [1, 0]: gbias = Σg = 1, gweight = Σ g·x̂ = −1, gx = g − mean(g) − x̂·mean(g·x̂) = [0, 0].
  Tensor x = from_vector({1, 3}, {2, 1}, kFloat64), g = from_vector({1, 0}, {2, 1}, kFloat64);
  auto st = cpu::batch_norm_stats(x);
  auto r = ops::batch_norm_backward(g, x, Tensor(), st.mean, st.var, 0.0, true);
  REQUIRE(r.gbias.to_vector<double>()[0] == Approx(1.0));
  REQUIRE(r.gweight.to_vector<double>()[0] == Approx(-1.0));
  REQUIRE(r.gx.to_vector<double>()[0] == Approx(0.0).margin(1e-12));
  REQUIRE(r.gx.to_vector<double>()[1] == Approx(0.0).margin(1e-12));
}

TEST_CASE("batch_norm rejects bad arguments", "[tensor][batch_norm][errors]") {
  Tensor x = random_tensor({4, 3}, kFloat32, 1);
  REQUIRE_THROWS_WITH(ops::batch_norm_train(random_tensor({1, 3}, kFloat32, 1), Tensor(), Tensor(), Tensor(),
                                            Tensor(), 0.1, 1e-5),
                      Catch::Contains("batch_norm") && Catch::Contains("more than 1 value per channel"));
  REQUIRE_THROWS_WITH(ops::batch_norm_train(x, zeros({4}), Tensor(), Tensor(), Tensor(), 0.1, 1e-5),
                      Catch::Contains("batch_norm") && Catch::Contains("[4,3]") && Catch::Contains("weight [4]"));
  REQUIRE_THROWS_WITH(ops::batch_norm_eval(x, Tensor(), Tensor(), Tensor(), Tensor(), 1e-5),
                      Catch::Contains("running_mean"));
  REQUIRE_THROWS_WITH(ops::batch_norm_eval(random_tensor({2, 3, 4}, kFloat32, 1), Tensor(), Tensor(), zeros({3}),
                                           ones({3}), 1e-5),
                      Catch::Contains("batch_norm") && Catch::Contains("[2,3,4]"));
}
