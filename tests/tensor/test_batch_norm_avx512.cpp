// The AVX-512 training-mode batch norm on nChw16c (tensor/onednn/batch_norm_avx512.h), called
// directly on blocked buffers: statistics, output, relu bits and gradients against the reference
// kernels in float64, for channel counts that pad the last block, one-pixel and odd-sized maps,
// a mean a thousand times the spread, and padding lanes full of NaN.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/batch_norm.h"
#include "tensor/elementwise.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/batch_norm_avx512.h"
#endif

using namespace retort;
using testing::FastPaths;
using testing::random_tensor;

#if RETORT_WITH_ONEDNN

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Layout {
  std::int64_t N, C, HW, CB;
  explicit Layout(const Shape& s)
      : N(s[0]), C(s[1]), HW(s[2] * s[3]), CB((s[1] + 15) / 16) {}
  std::size_t at(std::int64_t n, std::int64_t c, std::int64_t i) const {
    return static_cast<std::size_t>(((n * CB + c / 16) * HW + i) * 16 + c % 16);
  }
  std::size_t size() const { return static_cast<std::size_t>(N * CB * HW * 16); }
};

// Plain [N, C, H, W] → [N, ⌈C/16⌉, H·W, 16], padding lanes set to pad.
std::vector<float> to_blocked(const Tensor& t, float pad) {
  const Layout L(t.sizes());
  const Tensor c = t.to(kFloat32).contiguous();
  const float* p = c.data<float>();
  std::vector<float> b(L.size(), pad);
  for (std::int64_t n = 0; n < L.N; ++n)
    for (std::int64_t ch = 0; ch < L.C; ++ch)
      for (std::int64_t i = 0; i < L.HW; ++i) b[L.at(n, ch, i)] = p[(n * L.C + ch) * L.HW + i];
  return b;
}

// The real channels of a blocked buffer as a plain float64 tensor; every padding lane must be 0.
Tensor from_blocked(const std::vector<float>& b, const Shape& s) {
  const Layout L(s);
  std::vector<double> p(static_cast<std::size_t>(L.N * L.C * L.HW));
  for (std::int64_t n = 0; n < L.N; ++n)
    for (std::int64_t ch = 0; ch < L.CB * 16; ++ch)
      for (std::int64_t i = 0; i < L.HW; ++i) {
        if (ch >= L.C) {
          INFO("padding lane " << ch << " of image " << n << ", pixel " << i);
          REQUIRE(b[L.at(n, ch, i)] == 0.0f);
          continue;
        }
        p[(n * L.C + ch) * L.HW + i] = b[L.at(n, ch, i)];
      }
  return from_vector(p, s, kFloat64);
}

// The relu bits as a 0/1 plain float64 tensor (padding bits must be 0).
Tensor bits(const std::vector<std::uint16_t>& mask, const Shape& s) {
  const Layout L(s);
  std::vector<float> b(L.size());
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = (mask[i / 16] >> (i % 16)) & 1u;
  return from_blocked(b, s);
}

const float* f(const Tensor& t) { return t.data<float>(); }

void check(const Shape& s, bool relu, double mean_offset, std::uint64_t seed) {
  INFO("shape [" << s[0] << ", " << s[1] << ", " << s[2] << ", " << s[3] << "]"
                 << (relu ? ", relu" : "") << ", mean offset " << mean_offset);
  const Layout L(s);
  FastPaths off(false);
  // float32 inputs; the reference runs on their exact float64 values.
  const Tensor x = ops::add_scalar(random_tensor(s, kFloat32, seed), mean_offset).to(kFloat32);
  const Tensor gamma = random_tensor({L.C}, kFloat32, seed + 1);
  const Tensor beta = random_tensor({L.C}, kFloat32, seed + 2);
  const Tensor dy = random_tensor(s, kFloat32, seed + 3);
  const double eps = 1e-5;

  const std::vector<float> xb = to_blocked(x, kNaN), dyb = to_blocked(dy, kNaN);
  std::vector<float> yb(L.size(), kNaN), dxb(L.size(), kNaN);
  std::vector<std::uint16_t> mask(L.size() / 16, 0xffff);
  std::vector<float> mean(L.C), var(L.C), dgamma(L.C), dbeta(L.C);
  onednn::batch_norm16_forward_training(xb.data(), f(gamma), f(beta), yb.data(),
                                        relu ? mask.data() : nullptr, mean.data(), var.data(),
                                        L.N, L.C, L.HW, eps);
  onednn::batch_norm16_backward(xb.data(), dyb.data(), relu ? mask.data() : nullptr, f(gamma),
                                mean.data(), var.data(), dxb.data(), dgamma.data(), dbeta.data(),
                                L.N, L.C, L.HW, eps);

  const Tensor x64 = x.to(kFloat64), g64 = gamma.to(kFloat64), b64 = beta.to(kFloat64);
  auto ref = ops::batch_norm_train(x64, g64, b64, Tensor(), Tensor(), 0.1, eps);
  Tensor y_ref = relu ? ops::relu(ref.y) : ref.y;
  const Tensor d = relu ? ops::relu_backward(dy.to(kFloat64), y_ref) : dy.to(kFloat64);
  auto grads = ops::batch_norm_backward(d, x64, g64, ref.mean, ref.var, eps, true);

  REQUIRE_ALLCLOSE(from_vector(std::vector<double>(mean.begin(), mean.end()), {L.C}, kFloat64),
                   ref.mean, 1e-5 * (1 + std::abs(mean_offset)), 1e-6);
  REQUIRE_ALLCLOSE(from_vector(std::vector<double>(var.begin(), var.end()), {L.C}, kFloat64),
                   ref.var, 1e-5, 1e-3);
  REQUIRE_ALLCLOSE(from_blocked(yb, s), y_ref, 1e-3, 1e-3);
  if (relu) {
    // The bits say which outputs were kept: y > 0, away from values that round either way.
    const Tensor kept = bits(mask, s), want = ops::gt_scalar(y_ref, 0.0).to(kFloat64);
    const Tensor near = ops::lt_scalar(ops::abs(y_ref), 1e-4).to(kFloat64);
    REQUIRE_ALLCLOSE(ops::mul(kept, ops::rsub_scalar(near, 1.0)),
                     ops::mul(want, ops::rsub_scalar(near, 1.0)), 0.0, 0.0);
  }
  REQUIRE_ALLCLOSE(from_blocked(dxb, s), grads.gx, 1e-3, 1e-3);
  REQUIRE_ALLCLOSE(from_vector(std::vector<double>(dgamma.begin(), dgamma.end()), {L.C}, kFloat64),
                   grads.gweight, 1e-3, 1e-3);
  REQUIRE_ALLCLOSE(from_vector(std::vector<double>(dbeta.begin(), dbeta.end()), {L.C}, kFloat64),
                   grads.gbias, 1e-3, 1e-3);
}

}  // namespace

TEST_CASE("AVX-512 blocked batch norm matches the reference kernels", "[onednn][batch_norm]") {
  if (!onednn::batch_norm16_supported()) {
    WARN("this CPU has no AVX-512: the kernels are not used here");
    return;
  }
  std::uint64_t seed = 100;
  for (const Shape& s : {Shape{2, 5, 1, 1}, Shape{3, 16, 2, 2}, Shape{4, 58, 9, 9},
                         Shape{2, 116, 4, 4}, Shape{1, 24, 7, 5}})
    for (bool relu : {false, true}) check(s, relu, 0.0, seed += 10);
}

TEST_CASE("AVX-512 blocked batch norm keeps the variance under a large mean",
          "[onednn][batch_norm]") {
  if (!onednn::batch_norm16_supported()) return;
  // Values 1000 ± 1: float32 sums of x and x² would cancel the variance away; sums of x − k keep it.
  check({4, 20, 6, 6}, false, 1000.0, 7);
  check({4, 20, 6, 6}, true, 1000.0, 8);
}

#else

TEST_CASE("AVX-512 blocked batch norm needs the oneDNN build", "[onednn][batch_norm]") {
  WARN("built without oneDNN: no blocked layouts to test");
}

#endif
