// Raw softmax / log_softmax: hand-computed values, stability, every dim of 3-D inputs with the
// fast path (ops::, float32) against the reference loops (cpu::), layouts, backward, errors.
#include <cmath>

#include "support/helpers.h"
#include "tensor/cpu/softmax.h"
#include "tensor/elementwise.h"
#include "tensor/softmax.h"
#include "tensor/views.h"

using namespace retort;
using testing::random_tensor;

TEST_CASE("softmax and log_softmax of [1,2,3] match hand-computed values", "[tensor][softmax]") {
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  for (DType t : {kFloat32, kFloat64}) {
    Tensor x = from_vector({1, 2, 3}, {3}, t);
    auto s = ops::softmax(x, 0).to_vector<double>();
    auto l = ops::log_softmax(x, -1).to_vector<double>();
    for (int i = 0; i < 3; ++i) {
      REQUIRE(s[i] == Approx(std::exp(i + 1.0) / z).margin(1e-6));
      REQUIRE(l[i] == Approx(i + 1.0 - std::log(z)).margin(1e-6));
    }
  }
}

TEST_CASE("softmax is stable for large logits", "[tensor][softmax]") {
  for (DType t : {kFloat32, kFloat64}) {
    Tensor x = from_vector({1000, 0, -1000}, {1, 3}, t);
    auto s = ops::softmax(x, 1).to_vector<double>();
    auto l = ops::log_softmax(x, 1).to_vector<double>();
    REQUIRE(s[0] == Approx(1.0));
    REQUIRE(s[2] == 0.0);
    REQUIRE(l[0] == Approx(0.0).margin(1e-4));  // float32 rounding at magnitude 1000
    REQUIRE(l[1] == Approx(-1000.0));
    REQUIRE(l[2] == Approx(-2000.0));
  }
}

TEST_CASE("softmax along every dim of a 3-D input matches the reference", "[tensor][softmax]") {
  Tensor x = random_tensor({3, 4, 5}, kFloat32, 1, 3.0);
  for (int d : {0, 1, 2}) {
    for (bool log : {false, true}) {
      Tensor fast = log ? ops::log_softmax(x, d) : ops::softmax(x, d);
      REQUIRE_ALLCLOSE(fast, cpu::softmax(x, d, log), 1e-5, 1e-5);
    }
    // Slices sum to one (checked on the float64 reference: Σ over dim d).
    Tensor s = cpu::softmax(x.to(kFloat64), d, false);
    auto v = s.to_vector<double>();
    const auto& st = s.strides();
    Shape one = s.sizes();
    one[d] = 1;
    for (std::int64_t i = 0; i < shape_numel(one); ++i) {
      std::int64_t rem = i, base = 0;
      for (int k = 2; k >= 0; --k) {
        base += (rem % one[k]) * st[k];
        rem /= one[k];
      }
      double sum = 0;
      for (std::int64_t j = 0; j < s.size(d); ++j) sum += v[base + j * st[d]];
      REQUIRE(sum == Approx(1.0));
    }
  }
  REQUIRE_ALLCLOSE(ops::log_softmax(x.to(kFloat64), 1), ops::log(ops::softmax(x.to(kFloat64), 1)), 1e-12, 1e-12);
}

TEST_CASE("softmax keeps dense layouts and handles strided inputs", "[tensor][softmax]") {
  // Channels-last [2,3,4,5] (memory order N,H,W,C), softmax over C.
  Tensor nhwc = random_tensor({2, 4, 5, 3}, kFloat32, 2);
  Tensor x = ops::permute(nhwc, {0, 3, 1, 2});
  Tensor y = ops::softmax(x, 1);
  REQUIRE(y.strides() == x.strides());
  REQUIRE_ALLCLOSE(y, cpu::softmax(x.contiguous(), 1, false), 1e-6, 1e-5);
  REQUIRE_ALLCLOSE(ops::log_softmax(x, 2), cpu::softmax(x.contiguous(), 2, true), 1e-5, 1e-5);
  // Transposed 2-D and a non-dense slice (reference path through the dispatch).
  Tensor t = ops::transpose(random_tensor({6, 4}, kFloat32, 3), 0, 1);
  REQUIRE_ALLCLOSE(ops::softmax(t, 1), cpu::softmax(t.contiguous(), 1, false), 1e-6, 1e-5);
  Tensor sl = ops::slice(random_tensor({4, 10}, kFloat32, 4), 1, 0, 10, 2);
  REQUIRE_ALLCLOSE(ops::log_softmax(sl, -1), cpu::softmax(sl.contiguous(), 1, true), 1e-5, 1e-5);
}

TEST_CASE("softmax backward matches the reference", "[tensor][softmax]") {
  Tensor x = random_tensor({3, 4, 5}, kFloat32, 5);
  Tensor g = random_tensor({3, 4, 5}, kFloat32, 6);
  Tensor gt = ops::permute(random_tensor({5, 4, 3}, kFloat32, 7), {2, 1, 0});  // another layout
  for (int d : {0, 1, 2}) {
    Tensor y = ops::softmax(x, d), ly = ops::log_softmax(x, d);
    REQUIRE_ALLCLOSE(ops::softmax_backward(g, y, d), cpu::softmax_backward(g, y, d, false), 1e-6, 1e-5);
    REQUIRE_ALLCLOSE(ops::log_softmax_backward(g, ly, d), cpu::softmax_backward(g, ly, d, true), 1e-5, 1e-5);
    REQUIRE_ALLCLOSE(ops::softmax_backward(gt, y, d), cpu::softmax_backward(gt.contiguous(), y, d, false),
                     1e-6, 1e-5);
  }
  // Hand check: y = softmax([0, 0]) = [½, ½], g = [1, 0] → gx = y·(g − Σg·y) = [¼, −¼].
  Tensor y = ops::softmax(zeros({2}, kFloat64), 0);
  REQUIRE(ops::softmax_backward(from_vector({1, 0}, {2}, kFloat64), y, 0).to_vector<double>() ==
          std::vector<double>{0.25, -0.25});
  // log_softmax: gx = g − exp(y)·Σg with y = log ½: [1 − ½, 0 − ½].
  Tensor ly = ops::log_softmax(zeros({2}, kFloat64), 0);
  auto lg = ops::log_softmax_backward(from_vector({1, 0}, {2}, kFloat64), ly, 0).to_vector<double>();
  REQUIRE(lg[0] == Approx(0.5));
  REQUIRE(lg[1] == Approx(-0.5));
}

TEST_CASE("softmax rejects bad arguments", "[tensor][softmax][errors]") {
  Tensor x = random_tensor({2, 3}, kFloat32, 8);
  REQUIRE_THROWS_WITH(ops::softmax(x, 2), Catch::Contains("softmax"));
  REQUIRE_THROWS_WITH(ops::log_softmax(arange(4), 0), Catch::Contains("log_softmax") && Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(ops::softmax_backward(random_tensor({3, 2}, kFloat32, 9), x, 1),
                      Catch::Contains("softmax_backward") && Catch::Contains("[3,2]") && Catch::Contains("[2,3]"));
}
