// Batch norm in oneDNN's blocked layouts (tensor/onednn/batch_norm.h): a convolution's deferred
// blocked result goes through batch norm and an activation into the next convolution without a
// reorder, forward and backward. Checked against the reference kernels (fast paths off) for
// channel counts that pad the 16-wide blocks (58, 54, 116), for an upstream gradient in the plain
// layout, for eval mode, and for the running statistics (unbiased variance, momentum).
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/batch_norm.h"
#include "tensor/conv.h"
#include "tensor/views.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/blocked.h"
#include "tensor/onednn/common.h"
#endif

using namespace retort;
using testing::FastPaths;
using testing::random_tensor;

#if RETORT_WITH_ONEDNN

namespace {

Tensor leaf(const Shape& s, std::uint64_t seed, double scale) {
  return random_tensor(s, kFloat32, seed, scale).set_requires_grad();
}

// conv(8 → C) → batch_norm → relu → conv(C → 12), the loss a weighted sum of the output; with
// plain_grad the batch-norm output also feeds a plain product, so its gradient arrives plain
// (and that product writes the output's plain bytes).
struct Net {
  std::int64_t C;
  std::vector<Tensor> p;  // x, w1, gamma, beta, w2
  Tensor rm, rv;
  explicit Net(std::int64_t c) : C(c) {
    p = {leaf({4, 8, 9, 9}, 1, 1.0), leaf({C, 8, 3, 3}, 2, 0.3), leaf({C}, 3, 0.5),
         leaf({C}, 4, 0.5), leaf({12, C, 3, 3}, 5, 0.1)};
    rm = random_tensor({C}, kFloat32, 6, 0.1);
    rv = ones({C});
  }
  Tensor run(bool training, bool plain_grad, Tensor* bn_out = nullptr) {
    Conv2dOptions pad1;
    pad1.padding = {1, 1};
    Tensor h = batch_norm(conv2d(p[0], p[1], Tensor(), pad1), p[2], p[3], rm, rv, training, 0.1, 1e-5);
    if (bn_out) *bn_out = h;
    Tensor z = conv2d(relu(h), p[4], Tensor(), pad1);
    Tensor loss = sum(mul(z, random_tensor(z.sizes(), kFloat32, 7)));
    if (plain_grad) loss = add(loss, sum(mul(h, random_tensor(h.sizes(), kFloat32, 8))));
    return loss;
  }
};

void compare(std::int64_t C, bool training, bool plain_grad) {
  INFO("C " << C << (training ? " training" : " eval") << (plain_grad ? ", plain gradient" : ""));
  Net fast(C), ref(C);
  Tensor fl, rl, h;
  {
    FastPaths on(true);
    fl = fast.run(training, plain_grad, &h);
    // The batch norm's output stayed blocked (unless the plain product read it).
    if (!plain_grad) REQUIRE(onednn::blocked_of(h) != nullptr);
    fl.backward();
  }
  {
    FastPaths off(false);
    rl = ref.run(training, plain_grad);
    rl.backward();
  }
  REQUIRE_ALLCLOSE(fl, rl, 1e-3, 1e-3);
  REQUIRE_ALLCLOSE(fast.rm, ref.rm, 1e-5, 1e-5);
  REQUIRE_ALLCLOSE(fast.rv, ref.rv, 1e-4, 1e-5);
  const char* names[] = {"x", "w1", "gamma", "beta", "w2"};
  for (std::size_t i = 0; i < fast.p.size(); ++i) {
    INFO("gradient of " << names[i]);
    REQUIRE_ALLCLOSE(fast.p[i].grad(), ref.p[i].grad(), 1e-3, 1e-3);
  }
}

}  // namespace

TEST_CASE("batch norm on blocked convolution results matches the reference", "[onednn][batch_norm]") {
  for (std::int64_t C : {32, 58, 54, 116}) {
    compare(C, true, false);
    compare(C, true, true);
    compare(C, false, false);
  }
}

TEST_CASE("blocked batch norm leaves the padding channels zero", "[onednn][batch_norm]") {
  FastPaths on(true);
  const ops::Conv2dParams p{{1, 1}, {1, 1}, {1, 1}, 1};
  Tensor x = random_tensor({2, 8, 6, 6}, kFloat32, 11);
  Tensor w = random_tensor({58, 8, 3, 3}, kFloat32, 12, 0.3);
  Tensor c = ops::conv2d_forward(x, w, Tensor(), p, nullptr);
  // β ≠ 0 everywhere, so a kernel that normalised the padding would leave β there.
  auto f = ops::batch_norm_train(c, full({58}, 2.0), full({58}, 1.0), Tensor(), Tensor(), 0.1, 1e-5);
  auto b = onednn::blocked_of(f.y);
  REQUIRE(b != nullptr);
  const auto& md = b->desc.data;
  REQUIRE(md.format_desc.blocking.inner_nblks == 1);
  const std::int64_t blk = md.format_desc.blocking.inner_blks[0], Cp = md.padded_dims[1];
  REQUIRE(Cp > 58);
  const float* buf = b->buffer.data<float>();
  for (std::int64_t n = 0; n < 2; ++n)
    for (std::int64_t hw = 0; hw < 36; ++hw)
      for (std::int64_t c2 = 58; c2 < Cp; ++c2)
        REQUIRE(buf[((n * (Cp / blk) + c2 / blk) * 36 + hw) * blk + c2 % blk] == 0.0f);
}

TEST_CASE("blocked batch norm takes a strided view as its gradient", "[onednn][batch_norm]") {
  // A channel shuffle's gradient reaches each half as every other channel of a wider tensor; the
  // blocked backward reads that view in place. Same values as the packed gradient and as the
  // reference kernels.
  const ops::Conv2dParams p{{1, 1}, {1, 1}, {1, 1}, 1};
  Tensor x = random_tensor({2, 8, 6, 6}, kFloat32, 31);
  Tensor w = random_tensor({58, 8, 3, 3}, kFloat32, 32, 0.3);
  Tensor gamma = random_tensor({58}, kFloat32, 33), beta = random_tensor({58}, kFloat32, 34);
  Tensor wide = random_tensor({2, 58, 2, 6, 6}, kFloat32, 35);
  Tensor g = ops::select(wide, 2, 1);  // [2, 58, 6, 6], channel stride 72
  REQUIRE_FALSE(g.is_contiguous());
  ops::BatchNormGrads view, packed, ref;
  {
    FastPaths on(true);
    Tensor c = ops::conv2d_forward(x, w, Tensor(), p, nullptr);
    auto f = ops::batch_norm_train(c, gamma, beta, Tensor(), Tensor(), 0.1, 1e-5);
    REQUIRE(onednn::blocked_of(c) != nullptr);
    view = ops::batch_norm_backward(g, c, gamma, f.mean, f.var, 1e-5, true);
    packed = ops::batch_norm_backward(g.contiguous(), c, gamma, f.mean, f.var, 1e-5, true);
  }
  {
    FastPaths off(false);
    Tensor c = ops::conv2d_forward(x, w, Tensor(), p, nullptr);
    auto f = ops::batch_norm_train(c, gamma, beta, Tensor(), Tensor(), 0.1, 1e-5);
    ref = ops::batch_norm_backward(g, c, gamma, f.mean, f.var, 1e-5, true);
  }
  REQUIRE_ALLCLOSE(view.gx, packed.gx, 0.0, 0.0);
  REQUIRE_ALLCLOSE(view.gweight, packed.gweight, 0.0, 0.0);
  REQUIRE_ALLCLOSE(view.gx, ref.gx, 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(view.gweight, ref.gweight, 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(view.gbias, ref.gbias, 1e-4, 1e-4);
}

TEST_CASE("batch norm on plain and float64 inputs keeps the input's layout", "[onednn][batch_norm]") {
  FastPaths on(true);
  Tensor x32 = random_tensor({3, 58, 5, 5}, kFloat32, 21);
  auto f = ops::batch_norm_train(x32, Tensor(), Tensor(), Tensor(), Tensor(), 0.1, 1e-5);
  REQUIRE(onednn::blocked_of(f.y) == nullptr);
  Tensor x64 = random_tensor({3, 58, 5, 5}, kFloat64, 21);
  auto d = ops::batch_norm_train(x64, Tensor(), Tensor(), Tensor(), Tensor(), 0.1, 1e-5);
  REQUIRE(d.y.dtype() == kFloat64);
  REQUIRE_ALLCLOSE(f.y, d.y, 1e-4, 1e-4);
}

#else

TEST_CASE("blocked batch norm needs the oneDNN build", "[onednn][batch_norm]") {
  WARN("built without oneDNN: no blocked layouts to test");
}

#endif
