// The Winograd F(4x4, 3x3) backward-weights fast path (tensor/onednn/winograd.h) against the
// float64 reference kernels, each case in both strategies (whole-batch buffers, per-thread chunks
// of images): whole and partial 16-tile chunks (within and across images), chunks of images with a
// partial last one, images whose sides are not multiples of 4, the teacher's 128 → 64 layer, the
// bias, the layers it must refuse, and the conv2d dispatch that routes to it.
#include <vector>

#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/conv.h"
#include "tensor/cpu/conv.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/winograd.h"
#endif

using namespace retort;
using testing::random_tensor;

#if RETORT_WITH_ONEDNN

namespace {

ops::Conv2dParams pad1() {
  ops::Conv2dParams p;
  p.padding = {1, 1};
  return p;
}

// t [N, C, H, W] (float32, contiguous, C a multiple of 16) in nChw16c: N, C/16, H, W, 16.
std::vector<float> nchw16c(const Tensor& t) {
  const auto& s = t.sizes();
  const std::int64_t N = s[0], C = s[1], HW = s[2] * s[3];
  std::vector<float> out(t.numel());
  const float* in = t.data<float>();
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < HW; ++i)
        out[((n * (C / 16) + c / 16) * HW + i) * 16 + c % 16] = in[(n * C + c) * HW + i];
  return out;
}

// Runs the fast path on random x and gy and compares gw and gb with the reference, relative to
// the largest weight gradient. Measured errors: 1.3e-6 to 6e-6 of it on these shapes, 1e-5 with
// 1024 tiles (oneDNN's Winograd kernel: 1e-6 and 7e-7), as float32 F(4x4, 3x3) transforms go;
// a coefficient off by 0.1% gives errors near 1e-3.
void check_with(const Shape& x_sizes, std::int64_t O, std::uint64_t seed,
                onednn::WinogradStrategy strategy) {
  INFO("x " << shape_str(x_sizes) << ", " << O << " output channels, strategy "
            << static_cast<int>(strategy));
  const Shape w_sizes{O, x_sizes[1], 3, 3};
  const Shape y_sizes{x_sizes[0], O, x_sizes[2], x_sizes[3]};
  REQUIRE(onednn::winograd_weights_supported(x_sizes, w_sizes, pad1()));
  Tensor x = random_tensor(x_sizes, kFloat32, seed);
  Tensor gy = random_tensor(y_sizes, kFloat32, seed + 1);
  std::vector<float> xb = nchw16c(x), gyb = nchw16c(gy);
  Tensor gw = empty(w_sizes), gb = empty({O});
  onednn::winograd_backward_weights(xb.data(), gyb.data(), x_sizes, O, gw.data<float>(),
                                    gb.data<float>(), strategy);
  Tensor ref_w = cpu::conv2d_backward_weight(gy.to(kFloat64), x.to(kFloat64), w_sizes, pad1());
  Tensor ref_b = cpu::conv2d_backward_bias(gy.to(kFloat64));
  const double scale = testing::max_abs_diff(ref_w, zeros(w_sizes, kFloat64));
  REQUIRE_ALLCLOSE(gw, ref_w, 3e-5 * scale, 0.0);
  REQUIRE_ALLCLOSE(gb, ref_b, 1e-6 * scale, 0.0);
  // Without a bias the weights come out the same.
  Tensor gw2 = empty(w_sizes);
  onednn::winograd_backward_weights(xb.data(), gyb.data(), x_sizes, O, gw2.data<float>(), nullptr,
                                    strategy);
  REQUIRE(testing::max_abs_diff(gw2, gw) == 0.0);
}

// Both strategies (winograd.h), forced, on the same layer.
void check(const Shape& x_sizes, std::int64_t O, std::uint64_t seed) {
  check_with(x_sizes, O, seed, onednn::WinogradStrategy::whole_batch);
  check_with(x_sizes, O, seed, onednn::WinogradStrategy::chunked);
}

bool available() {
  if (onednn::winograd_weights_supported({1, 16, 8, 8}, {16, 16, 3, 3}, pad1())) return true;
  WARN("this CPU has no AVX-512: the Winograd backward-weights path is not used here");
  return false;
}

}  // namespace

TEST_CASE("Winograd backward-weights matches the reference", "[conv][winograd]") {
  if (!available()) return;
  SECTION("one whole chunk of 16 tiles per image") { check({2, 16, 16, 16}, 16, 1); }
  SECTION("15 tiles per image: partial chunks at unaligned tile offsets") {
    check({3, 32, 20, 12}, 48, 3);
  }
  SECTION("sides not multiples of 4: tiles cut by the image border") {
    check({2, 16, 7, 9}, 32, 5);
    check({1, 16, 5, 37}, 16, 7);
  }
  SECTION("one and four tiles per image: chunks of 16 tiles span images") {
    check({21, 32, 4, 4}, 48, 11);  // 16 images, then a partial chunk of 5
    check({5, 16, 8, 7}, 16, 13);   // 20 tiles: one whole chunk and 4 tiles
  }
  SECTION("chunks of whole images: several per thread, a partial last one, one image per chunk") {
    check({37, 16, 8, 8}, 32, 15);  // 16 images (64 tiles) per chunk: 16, 16, 5
    check({3, 16, 40, 36}, 16, 17);  // 90 tiles per image
  }
  SECTION("the teacher's 128 -> 64 layer at 32x32") { check({2, 128, 32, 32}, 64, 9); }
}

TEST_CASE("Winograd backward-weights refuses the layers it does not cover", "[conv][winograd]") {
  if (!available()) return;
  ops::Conv2dParams p = pad1();
  CHECK(onednn::winograd_weights_supported({2, 32, 8, 8}, {32, 32, 3, 3}, p));
  CHECK_FALSE(onednn::winograd_weights_supported({2, 40, 8, 8}, {32, 40, 3, 3}, p));  // C % 16
  CHECK_FALSE(onednn::winograd_weights_supported({2, 32, 8, 8}, {24, 32, 3, 3}, p));  // O % 16
  CHECK_FALSE(onednn::winograd_weights_supported({2, 32, 8, 8}, {32, 32, 5, 5}, p));  // 5x5
  ops::Conv2dParams q = p;
  q.stride = {2, 2};
  CHECK_FALSE(onednn::winograd_weights_supported({2, 32, 8, 8}, {32, 32, 3, 3}, q));
  q = p;
  q.padding = {0, 0};
  CHECK_FALSE(onednn::winograd_weights_supported({2, 32, 8, 8}, {32, 32, 3, 3}, q));
  q = p;
  q.dilation = {2, 2};
  CHECK_FALSE(onednn::winograd_weights_supported({2, 32, 8, 8}, {32, 32, 3, 3}, q));
  q = p;
  q.groups = 2;
  CHECK_FALSE(onednn::winograd_weights_supported({2, 32, 8, 8}, {32, 16, 3, 3}, q));
}

// Forward and all three gradients of a 3x3 layer that the dispatch sends to Winograd, against the
// float64 reference.
void check_routed(const Shape& x_sizes, std::int64_t O, std::uint64_t seed) {
  Tensor x = random_tensor(x_sizes, kFloat32, seed);
  Tensor w = random_tensor({O, x_sizes[1], 3, 3}, kFloat32, seed + 1, 0.1);
  Tensor gy = random_tensor({x_sizes[0], O, x_sizes[2], x_sizes[3]}, kFloat32, seed + 2);
  Tensor y = ops::conv2d_forward(x, w, Tensor(), pad1());
  REQUIRE_ALLCLOSE(y, cpu::conv2d_forward(x.to(kFloat64), w.to(kFloat64), Tensor(), pad1()), 2e-5,
                   2e-5);
  auto g = ops::conv2d_backward(gy, x, w, {true, true, true}, pad1());
  Tensor ref_w = cpu::conv2d_backward_weight(gy.to(kFloat64), x.to(kFloat64), w.sizes(), pad1());
  const double scale = testing::max_abs_diff(ref_w, zeros(w.sizes(), kFloat64));
  REQUIRE_ALLCLOSE(g.weight, ref_w, 3e-5 * scale, 0.0);
  REQUIRE_ALLCLOSE(g.bias, cpu::conv2d_backward_bias(gy.to(kFloat64)), 1e-6 * scale, 0.0);
  REQUIRE_ALLCLOSE(g.input,
                   cpu::conv2d_backward_data(gy.to(kFloat64), w.to(kFloat64), x.sizes(), pad1()),
                   2e-5, 2e-5);
}

TEST_CASE("conv2d routes a Winograd layer through the path", "[conv][winograd]") {
  if (!available()) return;
  // oneDNN picks Winograd for forward and backward-data, so x and gy reach the backward-weights
  // path in nChw16c without a reorder.
  SECTION("32 -> 32 channels at 16x16") { check_routed({4, 32, 16, 16}, 32, 21); }
  SECTION("128 -> 128 channels at 8x8: the whole-batch strategy") {
    check_routed({2, 128, 8, 8}, 128, 41);
  }
  SECTION("64 -> 64 channels at 4x4: one tile per image, as in vgg's last stages") {
    check_routed({4, 64, 4, 4}, 64, 31);
  }
}

#else

TEST_CASE("Winograd backward-weights needs oneDNN", "[conv][winograd]") {
  WARN("built without oneDNN: no Winograd backward-weights path to test");
}

#endif
