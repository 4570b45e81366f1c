// conv2d raw ops: the reference kernels against PyTorch fixtures, the oneDNN fast path against the
// reference (forward, backward-data, backward-weights, bias) on awkward shapes and layouts, and
// the argument errors.
#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/conv.h"
#include "tensor/cpu/conv.h"
#include "tensor/views.h"
#include "tensor/conv_fixture.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#endif

using namespace retort;
using retort::testing::random_tensor;

namespace {

enum class Layout { Nchw, Nhwc, Strided };

// A float32 tensor of logical shape s (4-D) with the given memory layout and N(0, scale) values.
Tensor make(const Shape& s, Layout l, std::uint64_t seed, double scale = 1.0) {
  if (l == Layout::Nchw) return random_tensor(s, kFloat32, seed, scale);
  if (l == Layout::Nhwc)
    return ops::permute(random_tensor({s[0], s[2], s[3], s[1]}, kFloat32, seed, scale),
                        {0, 3, 1, 2});
  // Every other element of a wider tensor: no dim is unit-stride.
  Tensor wide = random_tensor({s[0], s[1], s[2], 2 * s[3]}, kFloat32, seed, scale);
  return ops::slice(wide, 3, 0, 2 * s[3], 2);
}

Tensor f64(const Tensor& t) { return t.defined() ? t.to(kFloat64) : t; }

struct Case {
  Shape x, w;
  bool bias;
  ops::Conv2dParams p;
  Layout x_layout = Layout::Nchw, gy_layout = Layout::Nchw, w_layout = Layout::Nchw;
};

// The dispatched ops (oneDNN when enabled) against the float64 reference kernels.
void check_against_reference(const Case& c) {
  Tensor x = make(c.x, c.x_layout, 1);
  Tensor w = make(c.w, c.w_layout, 2, 0.3);
  Tensor b = c.bias ? random_tensor({c.w[0]}, kFloat32, 3) : Tensor();
  ops::Conv2dSaved saved;  // the backward below reads x from here when the fast path kept a copy
  Tensor y = ops::conv2d_forward(x, w, b, c.p, &saved);
  REQUIRE(y.sizes() == ops::conv2d_output_shape(x, w, b, c.p));
  REQUIRE_ALLCLOSE(y, cpu::conv2d_forward(f64(x), f64(w), f64(b), c.p), 2e-4, 2e-4);

  Tensor gy = make(y.sizes(), c.gy_layout, 4);
  auto g = ops::conv2d_backward(gy, x, w, {true, true, c.bias}, c.p, saved);
  REQUIRE_ALLCLOSE(g.input, cpu::conv2d_backward_data(f64(gy), f64(w), c.x, c.p), 2e-4, 2e-4);
  REQUIRE_ALLCLOSE(g.weight, cpu::conv2d_backward_weight(f64(gy), f64(x), c.w, c.p), 5e-4, 2e-4);
  if (c.bias) REQUIRE_ALLCLOSE(g.bias, cpu::conv2d_backward_bias(f64(gy)), 5e-4, 2e-4);
  if (c.x_layout == Layout::Nhwc && testing::onednn_fast_paths())  // gx keeps x's layout (size-1 dims aside)
    for (std::int64_t d = 0; d < 4; ++d)
      if (x.size(d) > 1) REQUIRE(g.input.stride(d) == x.stride(d));

  // The pieces one at a time (without the saved copy of x) give the same values as the
  // combined call.
  REQUIRE_ALLCLOSE(ops::conv2d_backward_data(gy, w, c.x, c.p), g.input, 1e-6, 1e-6);
  REQUIRE_ALLCLOSE(ops::conv2d_backward_weight(gy, x, c.w, c.p), g.weight, 1e-5, 1e-6);
  if (c.bias) REQUIRE_ALLCLOSE(ops::conv2d_backward_bias(gy), g.bias, 1e-5, 1e-6);
  auto only_bias = ops::conv2d_backward(gy, x, w, {false, false, true}, c.p);
  REQUIRE(!only_bias.input.defined());
  REQUIRE(!only_bias.weight.defined());
  REQUIRE_ALLCLOSE(only_bias.bias, cpu::conv2d_backward_bias(f64(gy)), 5e-4, 2e-4);
}

ops::Conv2dParams params(std::array<std::int64_t, 2> s, std::array<std::int64_t, 2> pad,
                         std::array<std::int64_t, 2> d = {1, 1}, std::int64_t groups = 1) {
  ops::Conv2dParams p;
  p.stride = s;
  p.padding = pad;
  p.dilation = d;
  p.groups = groups;
  return p;
}

}  // namespace

TEST_CASE("conv2d reference matches PyTorch", "[conv]") {
  using namespace retort::testing;
  struct Fx {
    const char* name;
    Shape x, w;
    bool bias;
    ops::Conv2dParams p;
  };
  const Fx cases[] = {
      {"conv_basic", {2, 3, 7, 9}, {5, 3, 3, 3}, true, params({1, 1}, {1, 1})},
      {"conv_options", {1, 4, 9, 8}, {6, 2, 3, 2}, false, params({2, 1}, {1, 2}, {2, 1}, 2)}};
  for (const auto& c : cases) {
    for (DType dt : {kFloat64, kFloat32}) {  // float32 takes the fast path when there is one
      INFO(c.name << " " << dtype_name(dt));
      Tensor x = fixture_x(c.x, dt), w = fixture_w(c.w, dt);
      Tensor b = c.bias ? fixture_b(c.w[0], dt) : Tensor();
      const double tol = dt == kFloat64 ? 1e-12 : 2e-5;
      Tensor y = ops::conv2d_forward(x, w, b, c.p);
      REQUIRE_ALLCLOSE(y, fixture_values(c.name, "y", y.sizes()), tol, tol);
      auto g = ops::conv2d_backward(fixture_gy(y.sizes(), dt), x, w, {true, true, c.bias}, c.p);
      REQUIRE_ALLCLOSE(g.input, fixture_values(c.name, "gx", c.x), tol, tol);
      REQUIRE_ALLCLOSE(g.weight, fixture_values(c.name, "gw", c.w), 10 * tol, tol);
      if (c.bias) REQUIRE_ALLCLOSE(g.bias, fixture_values(c.name, "gb", {c.w[0]}), 10 * tol, tol);
    }
  }
}

TEST_CASE("conv2d fast path matches the reference on awkward shapes", "[conv]") {
  std::vector<Case> cases = {
      // batch 1, odd 7x9 image, 3 → 5 channels, padding 1, bias
      {{1, 3, 7, 9}, {5, 3, 3, 3}, true, params({1, 1}, {1, 1})},
      // stride 2, no padding, the last row/column never read (negative right padding in oneDNN)
      {{2, 5, 8, 9}, {13, 5, 3, 3}, false, params({2, 2}, {0, 0})},
      // groups 2 with odd channel counts per group
      {{2, 10, 7, 9}, {6, 5, 3, 3}, true, params({1, 1}, {1, 1}, {1, 1}, 2)},
      // dilation 2, 13 channels, asymmetric kernel and strides
      {{1, 13, 9, 7}, {5, 13, 3, 2}, true, params({2, 1}, {2, 1}, {2, 2})},
      // 1x1 kernel, 13 → 3 channels
      {{3, 13, 5, 7}, {3, 13, 1, 1}, false, params({1, 1}, {0, 0})},
      // Winograd-sized layers (3x3, stride 1, >= 32 channels), channels not a multiple of 16
      {{2, 32, 10, 12}, {32, 32, 3, 3}, true, params({1, 1}, {1, 1})},
      {{1, 48, 9, 11}, {40, 48, 3, 3}, false, params({1, 1}, {1, 1})},
  };
  // Input, gradient and weight layouts other than packed NCHW.
  cases.push_back({{2, 5, 7, 9},
                   {6, 5, 3, 3},
                   true,
                   params({1, 1}, {1, 1}),
                   Layout::Nhwc,
                   Layout::Nhwc,
                   Layout::Strided});
  cases.push_back({{2, 32, 8, 9},
                   {32, 32, 3, 3},
                   true,
                   params({1, 1}, {1, 1}),
                   Layout::Strided,
                   Layout::Strided,
                   Layout::Nhwc});
  cases.push_back(
      {{1, 48, 9, 11}, {40, 48, 3, 3}, false, params({1, 1}, {1, 1}), Layout::Nhwc, Layout::Nchw});
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i << ": x " << shape_str(cases[i].x) << " w " << shape_str(cases[i].w));
    check_against_reference(cases[i]);
  }
}

TEST_CASE("conv2d backward takes a broadcast (stride-0) gradient", "[conv]") {
  // The gradient of y.sum() arrives as one value expanded over y's shape.
  Tensor x = random_tensor({2, 32, 8, 8}, kFloat32, 12),
         w = random_tensor({32, 32, 3, 3}, kFloat32, 13, 0.2);
  const auto p = params({1, 1}, {1, 1});
  Tensor gy = ops::expand(full({1, 1, 1, 1}, 0.5), {2, 32, 8, 8});
  auto g = ops::conv2d_backward(gy, x, w, {true, true, true}, p);
  Tensor gy64 = full({2, 32, 8, 8}, 0.5, kFloat64);
  REQUIRE_ALLCLOSE(g.input, cpu::conv2d_backward_data(gy64, f64(w), x.sizes(), p), 2e-4, 2e-4);
  REQUIRE_ALLCLOSE(g.weight, cpu::conv2d_backward_weight(gy64, f64(x), w.sizes(), p), 5e-4, 2e-4);
  REQUIRE_ALLCLOSE(g.bias, full({32}, 64.0, kFloat64), 1e-4, 0.0);
}

TEST_CASE("conv2d on a teacher-sized layer matches the reference", "[conv]") {
  check_against_reference({{2, 128, 12, 12}, {64, 128, 3, 3}, true, params({1, 1}, {1, 1})});
}

TEST_CASE("conv2d float64 and the disabled fast path run the reference kernels", "[conv]") {
  Tensor x = random_tensor({2, 3, 6, 5}, kFloat64, 7), w = random_tensor({4, 3, 3, 3}, kFloat64, 8);
  const auto p = params({1, 2}, {1, 0});
  REQUIRE(retort::testing::max_abs_diff(ops::conv2d_forward(x, w, Tensor(), p),
                                        cpu::conv2d_forward(x, w, Tensor(), p)) == 0.0);
#if RETORT_WITH_ONEDNN
  Tensor x32 = x.to(kFloat32), w32 = w.to(kFloat32);
  onednn::set_enabled(false);
  Tensor y = ops::conv2d_forward(x32, w32, Tensor(), p);
  onednn::set_enabled(true);
  REQUIRE(retort::testing::max_abs_diff(y, cpu::conv2d_forward(x32, w32, Tensor(), p)) == 0.0);
#endif
}

TEST_CASE("conv2d of an empty batch is empty", "[conv]") {
  Tensor y = ops::conv2d_forward(zeros({0, 3, 5, 5}), zeros({4, 3, 3, 3}), zeros({4}),
                                 params({1, 1}, {0, 0}));
  REQUIRE(y.sizes() == Shape{0, 4, 3, 3});
}

TEST_CASE("conv2d argument errors name the op and both shapes", "[conv]") {
  const auto p = params({1, 1}, {0, 0});
  REQUIRE_THROWS_WITH(ops::conv2d_forward(zeros({2, 3, 8, 8}), zeros({4, 2, 3, 3}), Tensor(), p),
                      Catch::Contains("conv2d: input [2,3,8,8] and weight [4,2,3,3]") &&
                          Catch::Contains("3 channels"));
  REQUIRE_THROWS_WITH(ops::conv2d_forward(zeros({1, 1, 2, 2}), zeros({1, 1, 5, 5}), Tensor(),
                                          params({1, 1}, {1, 1})),
                      Catch::Contains("conv2d: input [1,1,2,2] and weight [1,1,5,5]") &&
                          Catch::Contains("larger than the padded input 4x4"));
  REQUIRE_THROWS_WITH(ops::conv2d_forward(zeros({1, 4, 5, 5}), zeros({3, 2, 3, 3}), Tensor(),
                                          params({1, 1}, {0, 0}, {1, 1}, 2)),
                      Catch::Contains("conv2d") && Catch::Contains("groups 2"));
  REQUIRE_THROWS_WITH(ops::conv2d_forward(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), zeros({3}), p),
                      Catch::Contains("conv2d") && Catch::Contains("bias [3]"));
  REQUIRE_THROWS_WITH(ops::conv2d_forward(zeros({3, 5, 5}), zeros({4, 3, 3, 3}), Tensor(), p),
                      Catch::Contains("conv2d: input [3,5,5] and weight [4,3,3,3]"));
  REQUIRE_THROWS_WITH(
      ops::conv2d_forward(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}, kFloat64), Tensor(), p),
      Catch::Contains("conv2d") && Catch::Contains("float64"));
  REQUIRE_THROWS_WITH(ops::conv2d_forward(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), Tensor(),
                                          params({0, 1}, {0, 0})),
                      Catch::Contains("conv2d") && Catch::Contains("stride"));
  REQUIRE_THROWS_WITH(
      ops::conv2d_backward(zeros({1, 4, 2, 2}), zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), {}, p),
      Catch::Contains("conv2d_backward: gradient [1,4,2,2]") && Catch::Contains("[1,4,3,3]"));
}
