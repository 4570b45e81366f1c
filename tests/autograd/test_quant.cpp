// Fake quantisation (autograd/ops/quant.h): forward values pinned by hand (rounding ties,
// clamping, zero point, per-channel scales), the STE gradient (1 inside the range, 0 outside) and
// LSQ's step gradient against the paper's formula. A finite-difference gradcheck does not apply
// to these ops as a whole — the STE is by definition not the derivative of the rounded forward —
// so the gradients are checked against their closed forms instead, element by element.
#include <cmath>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/quant.h"
#include "support/helpers.h"

using namespace retort;

namespace {
Tensor leaf(const std::vector<double>& v, const Shape& s) {
  Tensor t = from_vector(v, s, kFloat64);
  t.set_requires_grad();
  return t;
}
std::vector<double> vec(const Tensor& t) { return t.to_vector<double>(); }
}  // namespace

TEST_CASE("round rounds half to even and has no gradient", "[autograd][quant]") {
  Tensor x = leaf({-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51}, {8});
  Tensor y = round(x);
  CHECK(vec(y) == std::vector<double>{-2, -2, 0, 0, 2, 2, 0, -1});
  CHECK_FALSE(y.requires_grad());
  Tensor f = round(from_vector(std::vector<float>{2.5f, 3.5f, -7.5f}, {3}));
  CHECK(f.to_vector<float>() == std::vector<float>{2, 4, -8});
  CHECK_THROWS_WITH(round(from_vector(std::vector<std::int64_t>{1}, {1})),
                    Catch::Contains("round"));
}

TEST_CASE("round_ste rounds forward and passes the gradient straight through", "[autograd][quant]") {
  Tensor x = leaf({0.2, 0.7, -1.6}, {3});
  Tensor y = round_ste(x);
  CHECK(vec(y) == std::vector<double>{0, 1, -2});
  y.backward(from_vector({1.0, 2.0, 3.0}, {3}, kFloat64));
  CHECK(vec(x.grad()) == std::vector<double>{1, 2, 3});
}

TEST_CASE("quant_range gives the k-bit grids", "[autograd][quant]") {
  CHECK(quant_range(8, true).qmin == -128);
  CHECK(quant_range(8, true).qmax == 127);
  CHECK(quant_range(8, false).qmax == 255);
  CHECK(quant_range(4, true).qmin == -8);
  CHECK(quant_range(4, false).qmax == 15);
  CHECK(quant_range(2, true).qmin == -2);
  CHECK(quant_range(2, true).qmax == 1);
  CHECK(quant_range(2, false).qmax == 3);
  CHECK_THROWS_WITH(quant_range(1, true), Catch::Contains("bits must be in [2, 8], got 1"));
  CHECK_THROWS_WITH(quant_range(9, false), Catch::Contains("got 9"));
}

TEST_CASE("fake_quantize per tensor: rounding, zero point, clamping and the STE mask",
          "[autograd][quant]") {
  // 4-bit unsigned [0, 15], scale 0.25, zero point 5: representable values [−1.25, 2.5].
  Tensor x = leaf({-2.0, -1.25, -0.7, 0.0, 0.1, 0.13, 2.375, 3.0}, {8});
  Tensor y = fake_quantize(x, full({}, 0.25, kFloat64), full({}, 5, kFloat64), quant_range(4, false));
  // x/s = −8, −5, −2.8, 0, 0.4, 0.52, 9.5, 12 → round (9.5 → 10, ties to even) + 5 =
  // −3, 0, 2, 5, 5, 6, 15, 17 → clamp to [0, 15] → minus 5, times 0.25.
  CHECK(vec(y) == std::vector<double>{-1.25, -1.25, -0.75, 0, 0, 0.25, 2.5, 2.5});
  y.backward(full({8}, 1.0, kFloat64));
  // 1 where qmin ≤ round(x/s) + z ≤ qmax (boundaries included), else 0.
  CHECK(vec(x.grad()) == std::vector<double>{0, 1, 1, 1, 1, 1, 1, 0});
}

TEST_CASE("fake_quantize per channel, symmetric", "[autograd][quant]") {
  // 4-bit signed [−8, 7]; row 0 scale 0.5, row 1 scale 0.25.
  Tensor x = leaf({1.3, -4.5, 3.6, 0.3, -2.0, 1.8}, {2, 3});
  Tensor s = from_vector({0.5, 0.25}, {2, 1}, kFloat64);
  Tensor y = fake_quantize(x, s, full({2, 1}, 0.0, kFloat64), quant_range(4, true));
  // Row 0: 2.6, −9, 7.2 → 3, −8 (clamped), 7; row 1: 1.2, −8, 7.2 → 1, −8, 7.
  CHECK(vec(y) == std::vector<double>{1.5, -4.0, 3.5, 0.25, -2.0, 1.75});
  y.backward(full({2, 3}, 1.0, kFloat64));
  CHECK(vec(x.grad()) == std::vector<double>{1, 0, 1, 1, 1, 1});
  CHECK_THROWS_WITH(fake_quantize(x, full({3, 1}, 1.0, kFloat64), full({}, 0.0, kFloat64),
                                  quant_range(4, true)),
                    Catch::Contains("fake_quantize") && Catch::Contains("[3,1]"));
}

TEST_CASE("lsq_quantize: forward, the x gradient and LSQ's step gradient", "[autograd][quant]") {
  for (bool per_channel : {false, true}) {
    for (int bits : {2, 4, 8}) {
      QuantRange r = quant_range(bits, true);
      Tensor x = testing::random_tensor({3, 20}, kFloat64, 7 + bits, 1.5);
      x.set_requires_grad();
      std::vector<double> steps = per_channel ? std::vector<double>{0.3, 0.11, 0.05}
                                              : std::vector<double>{0.17};
      Tensor step = per_channel ? leaf(steps, {3, 1}) : leaf(steps, {});
      double g = lsq_grad_scale(per_channel ? 20 : 60, r);
      Tensor y = lsq_quantize(x, step, r, g);
      Tensor probe = testing::random_tensor({3, 20}, kFloat64, 99);
      y.backward(probe);

      auto xv = vec(x), yv = vec(y), pv = vec(probe), gx = vec(x.grad());
      std::vector<double> gs(steps.size(), 0.0);
      for (int i = 0; i < 60; ++i) {
        std::size_t c = per_channel ? static_cast<std::size_t>(i / 20) : 0;
        double s = steps[c], v = xv[i] / s;
        double vc = std::min(std::max(v, double(r.qmin)), double(r.qmax));
        CHECK(yv[i] == Approx(std::nearbyint(vc) * s).margin(1e-15));
        bool inside = v >= r.qmin && v <= r.qmax;
        CHECK(gx[i] == Approx(inside ? pv[i] : 0.0).margin(1e-12));
        double ds = inside ? std::nearbyint(v) - v : (v < r.qmin ? double(r.qmin) : double(r.qmax));
        gs[c] += pv[i] * ds * g;
      }
      auto got = vec(step.grad());
      for (std::size_t c = 0; c < gs.size(); ++c) CHECK(got[c] == Approx(gs[c]).margin(1e-12));
    }
  }
}

TEST_CASE("lsq_grad_scale is 1/sqrt(N * qmax)", "[autograd][quant]") {
  CHECK(lsq_grad_scale(100, quant_range(8, false)) == Approx(1.0 / std::sqrt(100.0 * 255)));
  CHECK(lsq_grad_scale(432, quant_range(2, true)) == Approx(1.0 / std::sqrt(432.0)));
  CHECK_THROWS(lsq_grad_scale(0, quant_range(8, true)));
}

TEST_CASE("choose_qparams: symmetric, asymmetric, zero-width", "[autograd][quant]") {
  Tensor lo = from_vector({-1.0, 0.5, 0.0}, {3}, kFloat64);
  Tensor hi = from_vector({3.0, 2.0, 0.0}, {3}, kFloat64);
  QParams a = choose_qparams(lo, hi, quant_range(8, false), false);
  // [−1, 3] over 255 steps: zero point 0 − round(−1 / (4/255)) = round(63.75) = 64. [0.5, 2]
  // is extended to [0, 2]. An all-zero range gets scale 1.
  CHECK(vec(a.scale)[0] == Approx(4.0 / 255));
  CHECK(vec(a.scale)[1] == Approx(2.0 / 255));
  CHECK(vec(a.scale)[2] == 1.0);
  CHECK(vec(a.zero_point) == std::vector<double>{64, 0, 0});
  QParams s = choose_qparams(lo, hi, quant_range(8, true), true);
  CHECK(vec(s.scale)[0] == Approx(3.0 * 2 / 255));
  CHECK(vec(s.zero_point) == std::vector<double>{0, 0, 0});
  QParams u = choose_qparams(lo, hi, quant_range(4, false), true);
  CHECK(vec(u.scale)[1] == Approx(2.0 / 15));
  // Quantising with the chosen parameters reproduces the range's ends.
  Tensor ends = fake_quantize(from_vector({-1.0, 3.0}, {2}, kFloat64), full({}, 4.0 / 255, kFloat64),
                              full({}, 64.0, kFloat64), quant_range(8, false));
  CHECK(vec(ends)[0] == Approx(-1.0).margin(4.0 / 255 / 2));
  CHECK(vec(ends)[1] == Approx(3.0).margin(4.0 / 255 / 2));
}
