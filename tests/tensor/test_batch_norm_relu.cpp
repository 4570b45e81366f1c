// relu(batch_norm(x)) as one op (tensor/batch_norm.h): the fused oneDNN path on a convolution's
// blocked result against the composite on the reference kernels (fast paths off), forward,
// running statistics and every gradient; the fallbacks when the gradient arrives plain or x has
// left its blocked layout before the backward; eval mode; and nn's use of it (Sequential's
// BatchNorm2d → ReLU pairs, bn_relu), which must step aside for a tapped module.
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/linear.h"
#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/batch_norm.h"
#include "tensor/conv.h"
#include "tensor/elementwise.h"
#include "tensor/random.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/blocked.h"
#endif

using namespace retort;
using testing::FastPaths;
using testing::random_tensor;

namespace {

Tensor leaf(const Shape& s, std::uint64_t seed, double scale) {
  return random_tensor(s, kFloat32, seed, scale).set_requires_grad();
}

enum class Reader { None, PlainGrad, ReadsX };

// conv(8 → C) → relu(batch_norm) → conv(C → 12), fused (batch_norm_relu) or composed; the loss is
// a weighted sum of the output. PlainGrad: the relu output also feeds a plain product (its
// gradient arrives plain). ReadsX: the first convolution's output is also read plainly, which
// writes its plain bytes, so the backward can no longer use the blocked path.
struct Net {
  std::vector<Tensor> p;  // x, w1, gamma, beta, w2
  Tensor rm, rv;
  explicit Net(std::int64_t C) {
    p = {leaf({4, 8, 9, 9}, 1, 1.0), leaf({C, 8, 3, 3}, 2, 0.3), leaf({C}, 3, 0.5),
         leaf({C}, 4, 0.5), leaf({12, C, 3, 3}, 5, 0.1)};
    rm = random_tensor({C}, kFloat32, 6, 0.1);
    rv = ones({C});
  }
  Tensor run(bool fused, bool training, Reader r) {
    Conv2dOptions pad1;
    pad1.padding = {1, 1};
    Tensor c = conv2d(p[0], p[1], Tensor(), pad1);
    Tensor a = fused ? batch_norm_relu(c, p[2], p[3], rm, rv, training)
                     : relu(batch_norm(c, p[2], p[3], rm, rv, training));
    Tensor z = conv2d(a, p[4], Tensor(), pad1);
    Tensor loss = sum(mul(z, random_tensor(z.sizes(), kFloat32, 7)));
    if (r == Reader::PlainGrad) loss = add(loss, sum(mul(a, random_tensor(a.sizes(), kFloat32, 8))));
    if (r == Reader::ReadsX) loss = add(loss, mul(sum(c), scalar_tensor(1e-3)));
    return loss;
  }
};

void compare(std::int64_t C, bool training, Reader r) {
  INFO("C " << C << (training ? " training" : " eval") << " reader " << static_cast<int>(r));
  Net fast(C), ref(C);
  Tensor fl, rl;
  {
    FastPaths on(true);
    fl = fast.run(true, training, r);
    fl.backward();
  }
  {
    FastPaths off(false);
    rl = ref.run(false, training, r);
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

TEST_CASE("batch_norm_relu matches relu of batch_norm on the reference kernels", "[batch_norm]") {
  for (std::int64_t C : {32, 58, 116}) {
    compare(C, true, Reader::None);
    compare(C, true, Reader::PlainGrad);
    compare(C, true, Reader::ReadsX);
    compare(C, false, Reader::None);
  }
}

#if RETORT_WITH_ONEDNN
TEST_CASE("batch_norm_relu fuses on blocked inputs only", "[onednn][batch_norm]") {
  FastPaths on(true);
  const ops::Conv2dParams p{{1, 1}, {1, 1}, {1, 1}, 1};
  Tensor c = ops::conv2d_forward(random_tensor({2, 8, 6, 6}, kFloat32, 11),
                                 random_tensor({58, 8, 3, 3}, kFloat32, 12, 0.3), Tensor(), p);
  REQUIRE(onednn::blocked_of(c) != nullptr);
  Tensor w = random_tensor({58}, kFloat32, 13), b = random_tensor({58}, kFloat32, 14);
  auto f = ops::batch_norm_relu_train(c, w, b, Tensor(), Tensor(), 0.1, 1e-5);
  CHECK(f.mask.defined());
  CHECK(onednn::blocked_of(f.y) != nullptr);
  auto ref = ops::batch_norm_train(c, w, b, Tensor(), Tensor(), 0.1, 1e-5);
  REQUIRE_ALLCLOSE(f.y, ops::relu(ref.y), 1e-5, 1e-5);
  REQUIRE_ALLCLOSE(f.mean, ref.mean, 1e-6, 1e-6);
  // Eval: the fused inference primitive, no mask.
  Tensor rm = random_tensor({58}, kFloat32, 15, 0.1), rv = full({58}, 2.0);
  REQUIRE_ALLCLOSE(ops::batch_norm_relu_eval(c, w, b, rm, rv, 1e-5),
                   ops::relu(ops::batch_norm_eval(c, w, b, rm, rv, 1e-5)), 1e-5, 1e-5);
  // A plain input takes the composite: no mask, the same values.
  Tensor x = random_tensor({2, 58, 6, 6}, kFloat32, 16);
  auto plain = ops::batch_norm_relu_train(x, w, b, Tensor(), Tensor(), 0.1, 1e-5);
  CHECK_FALSE(plain.mask.defined());
  REQUIRE_ALLCLOSE(plain.y, ops::relu(ops::batch_norm_train(x, w, b, Tensor(), Tensor(), 0.1, 1e-5).y),
                   1e-6, 1e-6);
}
#endif

TEST_CASE("Sequential and bn_relu fuse BatchNorm2d -> ReLU unless a module is tapped", "[nn][batch_norm]") {
  FastPaths on(true);
  auto run = [](bool tap_relu) {
    manual_seed(3);
    auto seq = nn::make_sequential(std::make_shared<nn::Conv2d>(3, 20, 3, 1, 1),
                                   std::make_shared<nn::BatchNorm2d>(20), std::make_shared<nn::ReLU>());
    Tensor seen;
    nn::HookHandle handle;
    if (tap_relu)
      handle = (*seq)[2]->register_forward_hook(
          [&](const nn::Module&, const Tensor&, const Tensor& y) { seen = y; });
    Tensor x = random_tensor({4, 3, 8, 8}, kFloat32, 4);
    Tensor y = (*seq)(x);
    sum(mul(y, random_tensor(y.sizes(), kFloat32, 5))).backward();
    if (tap_relu) REQUIRE(seen.defined());
    if (tap_relu) REQUIRE_ALLCLOSE(seen, y, 0.0, 0.0);
    return std::vector<Tensor>{y, seq->parameters()[0].grad(), seq->parameters()[2].grad()};
  };
  auto fused = run(false), hooked = run(true);
  for (std::size_t i = 0; i < fused.size(); ++i) REQUIRE_ALLCLOSE(fused[i], hooked[i], 1e-5, 1e-5);

  // bn_relu runs the modules' hooks when there are any.
  nn::BatchNorm2d bn(4);
  nn::ReLU relu;
  int calls = 0;
  auto h = bn.register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) { ++calls; });
  Tensor x = random_tensor({2, 4, 3, 3}, kFloat32, 6);
  Tensor y = nn::bn_relu(bn, x, &relu);
  CHECK(calls == 1);
  h.remove();
  REQUIRE_ALLCLOSE(nn::bn_relu(bn, x, &relu), y, 1e-5, 1e-5);
  CHECK(calls == 1);
}

TEST_CASE("Sequential::forward_relu fuses the relu into its last child", "[nn][batch_norm]") {
  FastPaths on(true);
  for (int last : {0, 1, 2}) {  // ends in BatchNorm2d, Conv2d, or a tapped BatchNorm2d
    INFO("case " << last);
    auto make = [&] {
      manual_seed(7);
      auto seq = nn::make_sequential(std::make_shared<nn::Conv2d>(3, 20, 3, 1, 1),
                                     std::make_shared<nn::BatchNorm2d>(20));
      if (last == 1) seq->push_back(std::make_shared<nn::Conv2d>(20, 18, 1));
      return seq;
    };
    auto a = make(), b = make();
    int calls = 0;
    nn::HookHandle h;
    if (last == 2)
      h = (*a)[1]->register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) { ++calls; });
    Tensor x = random_tensor({4, 3, 8, 8}, kFloat32, 8);
    Tensor ya = a->forward_relu(x), yb = relu((*b)(x));
    CHECK(calls == (last == 2 ? 1 : 0));
    REQUIRE_ALLCLOSE(ya, yb, 1e-5, 1e-5);
    Tensor r = random_tensor(ya.sizes(), kFloat32, 9);
    sum(mul(ya, r)).backward();
    sum(mul(yb, r)).backward();
    for (std::size_t i = 0; i < a->parameters().size(); ++i)
      REQUIRE_ALLCLOSE(a->parameters()[i].grad(), b->parameters()[i].grad(), 1e-4, 1e-4);
  }
}
