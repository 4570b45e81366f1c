// Int8 inference kernels (tensor/int8.h): the reference loops against hand-computed values, and
// oneDNN's int8 convolution and matmul against the reference on random layers (with and without
// ReLU, strides 1 and 2, per-channel scales, zero-point-folded biases).
#include <random>

#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/cpu/int8.h"
#include "tensor/int8.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/int8.h"
#endif

using namespace retort;

namespace {
ops::Int8Layer random_layer(std::int64_t oc, std::int64_t c, std::int64_t k, std::int64_t stride, bool relu,
                            std::uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> w8(-128, 127);
  std::uniform_real_distribution<float> u(0.5f, 2.0f), b(-50.0f, 50.0f);
  ops::Int8Layer l;
  l.out_channels = oc;
  l.in_channels = c;
  l.kernel_h = l.kernel_w = k;
  l.stride_h = l.stride_w = stride;
  l.relu = relu;
  for (std::int64_t i = 0; i < oc * c * k * k; ++i) l.weight.push_back(static_cast<std::int8_t>(w8(g)));
  for (std::int64_t o = 0; o < oc; ++o) {
    l.scale.push_back(1e-4f * u(g));
    l.bias.push_back(b(g) * 1e-2f);
  }
  return l;
}
std::vector<std::uint8_t> random_u8(std::size_t n, std::uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<std::uint8_t> v(n);
  for (auto& e : v) e = static_cast<std::uint8_t>(d(g));
  return v;
}
}  // namespace

TEST_CASE("reference int8 kernels compute scale * integer sum + bias", "[tensor][int8]") {
  ops::Int8Layer l;
  l.out_channels = 2;
  l.in_channels = 2;
  l.weight = {1, -2, 127, -128};  // [2, 2]
  l.scale = {0.5f, 0.25f};
  l.bias = {1.0f, -100.0f};
  std::vector<std::uint8_t> x{3, 255, 10, 0};  // [2, 2]
  Tensor y = cpu::int8_linear(x, 2, l);
  // Row 0: 3 − 510 = −507 → −252.5; 381 − 32640 = −32259 → −8164.75. Row 1: 10 → 6; 1270 → 217.5.
  CHECK(y.to_vector<float>() == std::vector<float>{-252.5f, -8164.75f, 6.0f, 217.5f});
  l.relu = true;
  CHECK(cpu::int8_linear(x, 2, l).to_vector<float>() == std::vector<float>{0.0f, 0.0f, 6.0f, 217.5f});
  // A 2x2 conv with stride 1 on a [1, 3, 3, 1] NHWC input: one channel, sums of 2x2 windows.
  ops::Int8Layer c;
  c.out_channels = c.in_channels = 1;
  c.kernel_h = c.kernel_w = 2;
  c.weight = {1, 1, 1, -1};
  c.scale = {1.0f};
  c.bias = {0.5f};
  Tensor z = cpu::int8_conv2d({1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3, c);
  CHECK(z.sizes() == Shape{1, 1, 2, 2});
  CHECK(z.to_vector<float>() == std::vector<float>{2.5f, 4.5f, 8.5f, 10.5f});  // 1+2+4−5 = 2, …
  CHECK_THROWS_WITH(ops::int8_linear({1, 2, 3}, 2, l), Catch::Contains("int8_linear: input of 3 values"));
  l.scale[1] = 0;
  CHECK_THROWS_WITH(ops::int8_linear(x, 2, l), Catch::Contains("output scales must be positive"));
}

#if RETORT_WITH_ONEDNN
TEST_CASE("oneDNN int8 convolution and matmul match the reference", "[tensor][int8][onednn]") {
  std::uint32_t seed = 1;
  for (bool relu : {false, true}) {
    for (auto [oc, c, k, stride, h] : {std::tuple{16, 3, 3, 1, 34}, std::tuple{16, 16, 3, 1, 18},
                                        std::tuple{8, 5, 3, 2, 11}}) {
      ops::Int8Layer l = random_layer(oc, c, k, stride, relu, ++seed);
      auto x = random_u8(static_cast<std::size_t>(3 * h * h * c), ++seed);
      Tensor ref = cpu::int8_conv2d(x, 3, h, h, l);
      Tensor fast = onednn::int8_conv2d(x, 3, h, h, l);
      REQUIRE(fast.defined());
      REQUIRE(fast.sizes() == ref.sizes());
      REQUIRE_ALLCLOSE(fast, ref, 1e-4, 1e-5);
      // Second call: the prepared weights are reused.
      REQUIRE_ALLCLOSE(onednn::int8_conv2d(x, 3, h, h, l), ref, 1e-4, 1e-5);
    }
    for (auto [m, kk, oc] : {std::tuple{5, 1024, 256}, std::tuple{7, 256, 10}}) {
      ops::Int8Layer l = random_layer(oc, kk, 1, 1, relu, ++seed);
      auto x = random_u8(static_cast<std::size_t>(m * kk), ++seed);
      Tensor ref = cpu::int8_linear(x, m, l);
      Tensor fast = onednn::int8_linear(x, m, l);
      REQUIRE(fast.defined());
      REQUIRE_ALLCLOSE(fast, ref, 1e-4, 1e-5);
    }
  }
  // The dispatch point takes the fast path when it is on and the reference when it is off.
  ops::Int8Layer l = random_layer(4, 2, 3, 1, true, 99);
  auto x = random_u8(2 * 6 * 6 * 2, 100);
  Tensor ref = cpu::int8_conv2d(x, 2, 6, 6, l);
  {
    testing::FastPaths off(false);
    CHECK(testing::max_abs_diff(ops::int8_conv2d(x, 2, 6, 6, l), ref) == 0.0);
  }
  REQUIRE_ALLCLOSE(ops::int8_conv2d(x, 2, 6, 6, l), ref, 1e-4, 1e-5);
}
#endif

TEST_CASE("quantize_u8 rounds half to even, clamps, shifts signed grids and pads with the zero point",
          "[tensor][int8]") {
  // Scale 0.5, zero point 3 on [0, 15]: x/s = 0.5 → 0, 1.5 → 2, 2.5 → 2, −1 → −1 (+3 = 2),
  // 100 → clamped to 15, −100 → 0.
  Tensor x = from_vector(std::vector<float>{0.25f, 0.75f, 1.25f, -0.5f, 50.0f, -50.0f}, {6});
  CHECK(ops::quantize_u8(x, 0.5f, 3.0f, 0, 15) == std::vector<std::uint8_t>{3, 5, 5, 2, 15, 0});
  // Signed 8-bit grid [−128, 127], zero point 0: stored shifted by +128.
  CHECK(ops::quantize_u8(x, 0.5f, 0.0f, -128, 127) == std::vector<std::uint8_t>{128, 130, 130, 127, 228, 28});
  // NCHW [1, 2, 1, 2] → padded NHWC [1, 3, 4, 2]: border = zero point 3.
  Tensor img = from_vector(std::vector<float>{1, 2, 3, 4}, {1, 2, 1, 2});
  auto q = ops::quantize_u8(img, 1.0f, 3.0f, 0, 255, 1, 1);
  REQUIRE(q.size() == 24);
  std::vector<std::uint8_t> expect(24, 3);
  // Row 1 (the image row), columns 1 and 2, channels 0 and 1: (1, 3) and (2, 4), plus 3.
  expect[(1 * 4 + 1) * 2 + 0] = 4;
  expect[(1 * 4 + 1) * 2 + 1] = 6;
  expect[(1 * 4 + 2) * 2 + 0] = 5;
  expect[(1 * 4 + 2) * 2 + 1] = 7;
  CHECK(q == expect);
  CHECK_THROWS_WITH(ops::quantize_u8(x, 0.5f, 0.0f, 0, 511), Catch::Contains("at most 256 levels"));
}
