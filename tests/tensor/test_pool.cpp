// Pooling raw ops: the reference kernels against PyTorch fixtures, the oneDNN fast path against the
// reference (forward and backward) on awkward shapes and layouts, and the argument errors.
#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/conv_fixture.h"
#include "tensor/cpu/pool.h"
#include "tensor/pool.h"
#include "tensor/views.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#endif

using namespace retort;
using retort::testing::random_tensor;

namespace {

ops::Pool2dParams pp(std::array<std::int64_t, 2> k, std::array<std::int64_t, 2> s,
                     std::array<std::int64_t, 2> pad = {0, 0}) {
  ops::Pool2dParams p;
  p.kernel = k;
  p.stride = s;
  p.padding = pad;
  return p;
}

Tensor f64(const Tensor& t) { return t.to(kFloat64); }

// Random N(0,1) values (ties have probability 0) in packed NCHW, NHWC or a strided view.
Tensor make(const Shape& s, int layout, std::uint64_t seed) {
  if (layout == 0) return random_tensor(s, kFloat32, seed);
  if (layout == 1)
    return ops::permute(random_tensor({s[0], s[2], s[3], s[1]}, kFloat32, seed), {0, 3, 1, 2});
  return ops::slice(random_tensor({s[0], s[1], s[2], 2 * s[3]}, kFloat32, seed), 3, 0, 2 * s[3], 2);
}

struct Case {
  Shape x;
  ops::Pool2dParams p;
  int x_layout = 0, gy_layout = 0;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {{1, 3, 7, 9}, pp({2, 2}, {2, 2})},                // batch 1, last row/column unread
      {{2, 5, 8, 8}, pp({3, 3}, {2, 2}, {1, 1})},        // padding, overlapping windows
      {{2, 13, 7, 9}, pp({2, 3}, {1, 2}, {1, 1})},       // asymmetric kernel and stride
      {{3, 5, 9, 7}, pp({3, 3}, {1, 1}, {1, 1}), 1, 1},  // NHWC input and gradient
      {{2, 3, 7, 9}, pp({2, 2}, {2, 2}), 2, 2},          // strided views
      {{2, 16, 8, 8}, pp({2, 2}, {2, 2}), 0, 1},         // gradient in another layout than y
  };
  return c;
}

}  // namespace

TEST_CASE("pooling reference matches PyTorch", "[pool]") {
  using namespace retort::testing;
  const Shape a{2, 3, 7, 9}, b{1, 2, 7, 9}, c{1, 2, 8, 9};
  for (DType dt : {kFloat64, kFloat32}) {  // float32 takes the fast path when there is one
    INFO(dtype_name(dt));
    const double tol = dt == kFloat64 ? 1e-12 : 1e-5;
    auto check = [&](const char* name, const Shape& xs, auto fwd, auto bwd) {
      INFO(name);
      Tensor x = fixture_x(xs, dt);
      Tensor y = fwd(x);
      REQUIRE_ALLCLOSE(y, fixture_values(name, "y", y.sizes()), tol, tol);
      REQUIRE_ALLCLOSE(bwd(fixture_gy(y.sizes(), dt), x), fixture_values(name, "gx", xs), tol, tol);
    };
    auto max_pool = [](ops::Pool2dParams p) {
      return std::pair{[p](const Tensor& x) { return ops::max_pool2d_forward(x, p).output; },
                       [p](const Tensor& gy, const Tensor& x) {
                         return ops::max_pool2d_backward(gy, *ops::max_pool2d_forward(x, p).state);
                       }};
    };
    auto avg_pool = [](ops::Pool2dParams p, bool incl) {
      return std::pair{[p, incl](const Tensor& x) { return ops::avg_pool2d_forward(x, p, incl); },
                       [p, incl](const Tensor& gy, const Tensor& x) {
                         return ops::avg_pool2d_backward(gy, x.sizes(), p, incl);
                       }};
    };
    auto adaptive = [](std::array<std::int64_t, 2> out) {
      return std::pair{[out](const Tensor& x) { return ops::adaptive_avg_pool2d_forward(x, out); },
                       [](const Tensor& gy, const Tensor& x) {
                         return ops::adaptive_avg_pool2d_backward(gy, x.sizes());
                       }};
    };
    auto run = [&](const char* name, const Shape& xs, auto fb) {
      check(name, xs, fb.first, fb.second);
    };
    run("max_k3s2p1", a, max_pool(pp({3, 3}, {2, 2}, {1, 1})));
    run("max_k2", b, max_pool(pp({2, 2}, {2, 2})));
    run("avg_incl", a, avg_pool(pp({3, 3}, {2, 2}, {1, 1}), true));
    run("avg_excl", a, avg_pool(pp({3, 3}, {2, 2}, {1, 1}), false));
    run("adaptive_3x4", a, adaptive({3, 4}));
    run("adaptive_4x3", c, adaptive({4, 3}));
  }
}

TEST_CASE("max_pool2d fast path matches the reference", "[pool]") {
  for (std::size_t i = 0; i < cases().size(); ++i) {
    const Case& c = cases()[i];
    INFO("case " << i << ": x " << shape_str(c.x));
    Tensor x = make(c.x, c.x_layout, 10 + i);
    auto fast = ops::max_pool2d_forward(x, c.p);
    auto ref = cpu::max_pool2d_forward(x, c.p);
    REQUIRE_ALLCLOSE(fast.output, ref.output, 0.0, 0.0);
    Tensor gy = make(ref.output.sizes(), c.gy_layout, 20 + i);
    REQUIRE_ALLCLOSE(ops::max_pool2d_backward(gy, *fast.state),
                     cpu::max_pool2d_backward(f64(gy), ref.indices, c.x), 1e-6, 1e-6);
    if (c.x_layout == 1 && testing::onednn_fast_paths()) REQUIRE(fast.output.stride(1) == 1);  // NHWC in, NHWC out
    REQUIRE(ops::max_pool2d_forward(x, c.p, false).state == nullptr);
  }
}

TEST_CASE("avg_pool2d fast path matches the reference", "[pool]") {
  for (bool incl : {true, false}) {
    for (std::size_t i = 0; i < cases().size(); ++i) {
      const Case& c = cases()[i];
      INFO("case " << i << ": x " << shape_str(c.x) << " count_include_pad " << incl);
      Tensor x = make(c.x, c.x_layout, 30 + i);
      Tensor y = ops::avg_pool2d_forward(x, c.p, incl);
      REQUIRE_ALLCLOSE(y, cpu::avg_pool2d_forward(f64(x), c.p, incl), 1e-5, 1e-5);
      Tensor gy = make(y.sizes(), c.gy_layout, 40 + i);
      REQUIRE_ALLCLOSE(ops::avg_pool2d_backward(gy, c.x, c.p, incl),
                       cpu::avg_pool2d_backward(f64(gy), c.x, c.p, incl), 1e-5, 1e-5);
    }
  }
}

TEST_CASE("adaptive_avg_pool2d: even splits take avg pooling, others the reference", "[pool]") {
  const std::vector<std::pair<Shape, std::array<std::int64_t, 2>>> cases = {
      {{2, 5, 8, 6}, {4, 3}},  // even: kernel = stride = 2x2
      {{1, 3, 8, 8}, {1, 1}},  // global average
      {{2, 3, 7, 9}, {3, 4}},  // uneven, overlapping windows
      {{1, 2, 3, 3}, {5, 4}},  // output larger than the input
  };
  for (const auto& [xs, out] : cases) {
    INFO("x " << shape_str(xs) << " → " << out[0] << "x" << out[1]);
    Tensor x = random_tensor(xs, kFloat32, 5);
    Tensor y = ops::adaptive_avg_pool2d_forward(x, out);
    REQUIRE_ALLCLOSE(y, cpu::adaptive_avg_pool2d_forward(f64(x), out), 1e-5, 1e-5);
    Tensor gy = random_tensor(y.sizes(), kFloat32, 6);
    REQUIRE_ALLCLOSE(ops::adaptive_avg_pool2d_backward(gy, xs),
                     cpu::adaptive_avg_pool2d_backward(f64(gy), xs), 1e-5, 1e-5);
  }
}

TEST_CASE("max_pool2d backward follows the path that ran the forward", "[pool]") {
  Tensor x = random_tensor({2, 3, 6, 6}, kFloat32, 9);
  const auto p = pp({2, 2}, {2, 2});
  auto fast = ops::max_pool2d_forward(x, p);
  Tensor gy = random_tensor(fast.output.sizes(), kFloat32, 10);
#if RETORT_WITH_ONEDNN
  onednn::set_enabled(false);
  auto ref = ops::max_pool2d_forward(x, p);
  Tensor g_fast = ops::max_pool2d_backward(gy, *fast.state);
  onednn::set_enabled(true);
  REQUIRE(ref.state->indices.defined());
  Tensor g_ref = ops::max_pool2d_backward(gy, *ref.state);
#else
  Tensor g_fast = ops::max_pool2d_backward(gy, *fast.state);
  Tensor g_ref = cpu::max_pool2d_backward(gy, fast.state->indices, x.sizes());
#endif
  REQUIRE_ALLCLOSE(g_fast, g_ref, 0.0, 0.0);
}

TEST_CASE("pooling argument errors name the op and the shapes", "[pool]") {
  Tensor x = zeros({1, 2, 4, 4});
  REQUIRE_THROWS_WITH(
      ops::max_pool2d_forward(x, pp({2, 2}, {2, 2}, {2, 2})),
      Catch::Contains("max_pool2d: input [1,2,4,4]") && Catch::Contains("at most half"));
  REQUIRE_THROWS_WITH(ops::avg_pool2d_forward(x, pp({7, 7}, {1, 1}, {1, 1})),
                      Catch::Contains("avg_pool2d: input [1,2,4,4]") &&
                          Catch::Contains("larger than the padded input 6x6"));
  REQUIRE_THROWS_WITH(ops::max_pool2d_forward(zeros({2, 4, 4}), pp({2, 2}, {2, 2})),
                      Catch::Contains("max_pool2d") && Catch::Contains("[2,4,4]"));
  REQUIRE_THROWS_WITH(ops::max_pool2d_forward(x, pp({2, 2}, {0, 2})),
                      Catch::Contains("max_pool2d") && Catch::Contains("stride"));
  auto r = ops::max_pool2d_forward(x, pp({2, 2}, {2, 2}));
  REQUIRE_THROWS_WITH(
      ops::max_pool2d_backward(zeros({1, 2, 3, 3}), *r.state),
      Catch::Contains("max_pool2d_backward: gradient [1,2,3,3]") && Catch::Contains("[1,2,2,2]"));
  REQUIRE_THROWS_WITH(ops::adaptive_avg_pool2d_forward(x, {0, 2}),
                      Catch::Contains("adaptive_avg_pool2d: input [1,2,4,4]"));
}
