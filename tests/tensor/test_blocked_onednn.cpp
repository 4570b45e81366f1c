// Deferred blocked results (tensor/onednn/blocked.h): convolution, eltwise activations and max
// pooling pass oneDNN's blocked layouts between each other without reordering, in forward and
// backward. Checked against the reference kernels (fast paths off) on a chain with padded blocks
// (20 channels), a Winograd layer, a tensor with two consumers, and against the ways a deferred
// tensor can be read or written behind the fast paths' back: views, in-place writes, plain ops.
#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/conv.h"
#include "tensor/elementwise.h"
#include "tensor/reduce.h"
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

struct Chain {
  std::vector<Tensor> params;  // x, w1, b1, w2, b2, w3, b3, w4
  Chain() {
    params = {leaf({4, 3, 16, 16}, 1, 1.0),  leaf({32, 3, 3, 3}, 2, 0.3), leaf({32}, 3, 0.1),
              leaf({32, 32, 3, 3}, 4, 0.1),  leaf({32}, 5, 0.1),         leaf({20, 32, 3, 3}, 6, 0.1),
              leaf({20}, 7, 0.1),            leaf({24, 20, 3, 3}, 8, 0.1)};
  }
  // Returns the loss; *first gets conv1 → relu's output (checked for being deferred).
  Tensor run(Tensor* first = nullptr) const {
    const auto& p = params;
    Conv2dOptions pad1;
    pad1.padding = {1, 1};
    Tensor h1 = relu(conv2d(p[0], p[1], p[2], pad1));            // direct conv, 32 channels
    if (first) *first = h1;
    Tensor h2 = max_pool2d(h1, {2, 2});                          // [4,32,8,8]
    Tensor h3 = sigmoid(conv2d(h2, p[3], p[4], pad1));           // Winograd 32 → 32
    Tensor h4 = tanh(conv2d(h3, p[5], p[6], pad1));              // 20 channels: padded blocks
    Tensor h5 = max_pool2d(relu(conv2d(h4, p[7], Tensor(), pad1)), {2, 2});
    Tensor r2 = random_tensor(h2.sizes(), kFloat32, 11);
    Tensor r5 = random_tensor(h5.sizes(), kFloat32, 12);
    // h2 has two consumers, so its gradient is a sum of a deferred and a plain one.
    return add(sum(mul(h5, r5)), sum(mul(h2, r2)));
  }
};

}  // namespace

TEST_CASE("a conv / activation / pool chain in blocked layouts matches the reference",
          "[onednn][blocked]") {
  Chain fast_chain, ref_chain;
  Tensor fast_loss, ref_loss, h1;
  {
    FastPaths on(true);
    fast_loss = fast_chain.run(&h1);
    REQUIRE(onednn::blocked_of(h1) != nullptr);  // the fast path did defer
    fast_loss.backward();
  }
  {
    FastPaths off(false);
    ref_loss = ref_chain.run();
    ref_loss.backward();
  }
  REQUIRE_ALLCLOSE(fast_loss, ref_loss, 1e-3, 1e-4);
  const char* names[] = {"x", "w1", "b1", "w2", "b2", "w3", "b3", "w4"};
  for (std::size_t i = 0; i < fast_chain.params.size(); ++i) {
    INFO("gradient of " << names[i]);
    REQUIRE_ALLCLOSE(fast_chain.params[i].grad(), ref_chain.params[i].grad(), 1e-4, 1e-3);
  }
  REQUIRE_ALLCLOSE(h1, ops::relu(ops::conv2d_forward(ref_chain.params[0], ref_chain.params[1],
                                                     ref_chain.params[2], {{1, 1}, {1, 1}, {1, 1}, 1},
                                                     nullptr)),
                   1e-5, 1e-5);
  REQUIRE(onednn::blocked_of(h1) == nullptr);  // reading it wrote the plain bytes
}

TEST_CASE("deferred results read through views, plain ops and in-place writes stay correct",
          "[onednn][blocked]") {
  FastPaths on(true);
  const ops::Conv2dParams p{{1, 1}, {1, 1}, {1, 1}, 1};
  Tensor x = random_tensor({2, 8, 10, 10}, kFloat32, 21);
  Tensor w = random_tensor({32, 8, 3, 3}, kFloat32, 22, 0.2);
  Tensor w2 = random_tensor({16, 32, 3, 3}, kFloat32, 23, 0.2);
  Tensor ref;
  {
    FastPaths off(false);
    ref = ops::conv2d_forward(x, w, Tensor(), p, nullptr);
  }
  SECTION("a view of a deferred tensor sees the right elements") {
    Tensor y = ops::conv2d_forward(x, w, Tensor(), p, nullptr);
    REQUIRE(onednn::blocked_of(y) != nullptr);
    Tensor v = ops::narrow(y, 1, 5, 7);
    REQUIRE(onednn::blocked_of(v) == nullptr);
    REQUIRE_ALLCLOSE(v, ops::narrow(ref, 1, 5, 7), 1e-5, 1e-5);
    REQUIRE(onednn::blocked_of(y) == nullptr);
  }
  SECTION("an in-place write reaches the next convolution") {
    Tensor y = ops::conv2d_forward(x, w, Tensor(), p, nullptr);
    y.fill_(0.5);
    Tensor z = ops::conv2d_forward(y, w2, Tensor(), p, nullptr);
    Tensor z_ref;
    {
      FastPaths off(false);
      z_ref = ops::conv2d_forward(full(y.sizes(), 0.5), w2, Tensor(), p, nullptr);
    }
    REQUIRE_ALLCLOSE(z, z_ref, 1e-4, 1e-5);
  }
  SECTION("a write through a view reaches the next activation") {
    Tensor y = ops::conv2d_forward(x, w, Tensor(), p, nullptr);
    ops::narrow(y, 0, 1, 1).fill_(-1.0);
    Tensor r = ops::relu(y);
    REQUIRE(onednn::blocked_of(r) == nullptr);
    REQUIRE(ops::sum(ops::narrow(r, 0, 1, 1), {}, false).item<double>() == 0.0);
    REQUIRE_ALLCLOSE(ops::narrow(r, 0, 0, 1), ops::relu(ops::narrow(ref, 0, 0, 1)), 1e-5, 1e-5);
  }
  SECTION("a plain op in between leaves the deferred tensor usable") {
    Tensor y = ops::relu(ops::conv2d_forward(x, w, Tensor(), p, nullptr));
    Tensor twice = ops::mul_scalar(y, 2.0);
    REQUIRE_ALLCLOSE(twice, ops::mul_scalar(ops::relu(ref), 2.0), 1e-5, 1e-5);
    Tensor z = ops::conv2d_forward(y, w2, Tensor(), p, nullptr);
    Tensor z_ref;
    {
      FastPaths off(false);
      z_ref = ops::conv2d_forward(ops::relu(ref), w2, Tensor(), p, nullptr);
    }
    REQUIRE_ALLCLOSE(z, z_ref, 1e-4, 1e-4);
  }
}

#else

TEST_CASE("blocked layouts need the oneDNN build", "[onednn][blocked]") {
  WARN("built without oneDNN: no blocked layouts to test");
}

#endif
