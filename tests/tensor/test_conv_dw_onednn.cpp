// Depthwise backward-weights with explicit padding (tensor/onednn/conv_dw.h) against the reference
// kernels (fast paths off): the small-map geometries where oneDNN's jit_dw kernel declines the
// padded problem (MobileNetV2's 2x2 maps), stride 1 and 2, with and without bias, x plain or a
// deferred blocked result; and the cases the padded form leaves alone.
#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/conv.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/common.h"
#include "tensor/onednn/conv_dw.h"
#include "tensor/onednn/layout.h"
#include "tensor/onednn/strided.h"
#endif

using namespace retort;
using testing::FastPaths;
using testing::random_tensor;

#if RETORT_WITH_ONEDNN

namespace {

ops::Conv2dParams depthwise(std::int64_t C, std::int64_t stride) {
  return {{stride, stride}, {1, 1}, {1, 1}, C};
}

}  // namespace

TEST_CASE("depthwise backward on small maps matches the reference", "[onednn][conv]") {
  struct Case {
    std::int64_t C, H, stride;
    bool bias, blocked_x;
  };
  for (Case c : {Case{480, 2, 1, false, false}, Case{48, 2, 1, true, false},
                 Case{96, 3, 2, false, true}, Case{480, 2, 1, true, true}}) {
    INFO("C " << c.C << " H " << c.H << " stride " << c.stride);
    const auto p = depthwise(c.C, c.stride);
    Tensor x = random_tensor({4, c.C, c.H, c.H}, kFloat32, 1);
    Tensor w = random_tensor({c.C, 1, 3, 3}, kFloat32, 2, 0.3);
    ops::Conv2dGradMask mask{true, true, c.bias};
    ops::Conv2dGrads fast, ref;
    Tensor gy;
    {
      FastPaths off(false);
      gy = random_tensor(ops::conv2d_forward(x, w, Tensor(), p).sizes(), kFloat32, 3);
      ref = ops::conv2d_backward(gy, x, w, mask, p);
    }
    {
      FastPaths on(true);
      // A blocked x: the result of a 1x1 convolution, as in MobileNetV2's expansion layers.
      Tensor xin = x;
      Tensor eye = zeros({c.C, c.C, 1, 1});
      if (c.blocked_x) {
        for (std::int64_t i = 0; i < c.C; ++i) eye.data<float>()[i * c.C + i] = 1.0f;
        xin = ops::conv2d_forward(x, eye, Tensor(), {{1, 1}, {0, 0}, {1, 1}, 1});
      }
      ops::Conv2dSaved saved;
      ops::conv2d_forward(xin, w, Tensor(), p, &saved);
      fast = ops::conv2d_backward(gy, xin, w, mask, p, saved);
    }
    REQUIRE_ALLCLOSE(fast.weight, ref.weight, 1e-4, 1e-4);
    REQUIRE_ALLCLOSE(fast.input, ref.input, 1e-4, 1e-4);
    if (c.bias) REQUIRE_ALLCLOSE(fast.bias, ref.bias, 1e-4, 1e-4);
  }
}

TEST_CASE("the padded depthwise form writes the weight gradient or declines", "[onednn][conv]") {
  FastPaths on(true);
  const std::int64_t C = 480;
  Tensor x = random_tensor({2, C, 2, 2}, kFloat32, 4);
  Tensor gy = random_tensor({2, C, 2, 2}, kFloat32, 5);
  const auto p = depthwise(C, 1);
  Tensor gw = empty({C, 1, 3, 3}), gb = empty({C});
  dnnl::memory xm(onednn::canonical_desc(x), onednn::engine(), x.raw_data());
  {
    std::lock_guard<std::mutex> lock(onednn::scratch_mutex());
    REQUIRE(onednn::depthwise_weights_padded(xm, gy, x.sizes(), {C, 1, 3, 3}, p, gw, gb));
  }
  Tensor ref_w, ref_b;
  {
    FastPaths off(false);
    ref_w = ops::conv2d_backward_weight(gy, x, {C, 1, 3, 3}, p);
    ref_b = ops::conv2d_backward_bias(gy);
  }
  REQUIRE_ALLCLOSE(gw, ref_w, 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(gb, ref_b, 1e-4, 1e-4);
  // Nothing to make explicit without padding.
  ops::Conv2dParams unpadded = p;
  unpadded.padding = {0, 0};
  Tensor x4 = random_tensor({2, C, 4, 4}, kFloat32, 6);
  dnnl::memory x4m(onednn::canonical_desc(x4), onednn::engine(), x4.raw_data());
  std::lock_guard<std::mutex> lock(onednn::scratch_mutex());
  REQUIRE_FALSE(onednn::depthwise_weights_padded(x4m, gy, x4.sizes(), {C, 1, 3, 3}, unpadded, gw, Tensor()));
}

#else

TEST_CASE("padded depthwise backward needs the oneDNN build", "[onednn][conv]") {
  WARN("built without oneDNN");
}

#endif
