// add and add_relu on deferred blocked tensors (tensor/onednn/binary.h) against the reference
// kernel (fast paths off): both operands blocked, one blocked and one plain (either side), padded
// channel blocks (58), a residual block's forward and gradients (whose engine sums two blocked
// gradients), and the cases that must fall back (broadcasting, float64, no blocked operand).
#include <algorithm>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/conv.h"
#include "tensor/elementwise.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/blocked.h"
#include "tensor/onednn/common.h"
#endif

using namespace retort;
using testing::FastPaths;
using testing::random_tensor;

#if RETORT_WITH_ONEDNN

namespace {

const ops::Conv2dParams kPad1{{1, 1}, {1, 1}, {1, 1}, 1};

// A deferred blocked conv result with C channels, and its reference value.
std::pair<Tensor, Tensor> conv_result(std::int64_t C, std::uint64_t seed) {
  Tensor x = random_tensor({2, 8, 7, 7}, kFloat32, seed);
  Tensor w = random_tensor({C, 8, 3, 3}, kFloat32, seed + 1, 0.3);
  Tensor ref;
  {
    FastPaths off(false);
    ref = ops::conv2d_forward(x, w, Tensor(), kPad1, nullptr);
  }
  return {ops::conv2d_forward(x, w, Tensor(), kPad1, nullptr), ref};
}

}  // namespace

TEST_CASE("add of blocked operands matches the reference", "[onednn][elementwise]") {
  FastPaths on(true);
  for (std::int64_t C : {32, 58}) {
    INFO("C " << C);
    auto [a, a_ref] = conv_result(C, 1);
    auto [b, b_ref] = conv_result(C, 3);
    Tensor plain = random_tensor(a.sizes(), kFloat32, 5);
    REQUIRE(onednn::blocked_of(a) != nullptr);
    Tensor both = ops::add(a, b);
    Tensor left = ops::add(a, plain);
    Tensor right = ops::add(plain, b);
    for (const Tensor* t : {&both, &left, &right}) REQUIRE(onednn::blocked_of(*t) != nullptr);
    REQUIRE(onednn::blocked_of(a) != nullptr);  // the operands stay blocked
    // The sum feeds the next blocked op as it is.
    Tensor r = ops::relu(both);
    REQUIRE(onednn::blocked_of(r) != nullptr);
    Tensor both_ref, left_ref, right_ref;
    {
      FastPaths off(false);
      both_ref = ops::add(a_ref, b_ref);
      left_ref = ops::add(a_ref, plain);
      right_ref = ops::add(plain, b_ref);
    }
    REQUIRE_ALLCLOSE(both, both_ref, 1e-5, 1e-5);
    REQUIRE_ALLCLOSE(left, left_ref, 1e-5, 1e-5);
    REQUIRE_ALLCLOSE(right, right_ref, 1e-5, 1e-5);
    REQUIRE_ALLCLOSE(r, ops::relu(both_ref), 1e-5, 1e-5);
  }
}

TEST_CASE("add_relu of blocked operands is relu of the reference sum", "[onednn][elementwise]") {
  FastPaths on(true);
  for (std::int64_t C : {32, 58}) {
    INFO("C " << C);
    auto [a, a_ref] = conv_result(C, 31);
    auto [b, b_ref] = conv_result(C, 33);
    Tensor plain = random_tensor(a.sizes(), kFloat32, 35);
    Tensor both = ops::add_relu(a, b), left = ops::add_relu(a, plain);
    Tensor right = ops::add_relu(plain, b);
    for (const Tensor* t : {&both, &left, &right}) REQUIRE(onednn::blocked_of(*t) != nullptr);
    Tensor both_ref, left_ref, right_ref;
    {
      FastPaths off(false);
      both_ref = ops::relu(ops::add(a_ref, b_ref));
      left_ref = ops::relu(ops::add(a_ref, plain));
      right_ref = ops::relu(ops::add(plain, b_ref));
    }
    REQUIRE_ALLCLOSE(both, both_ref, 1e-5, 1e-5);
    REQUIRE_ALLCLOSE(left, left_ref, 1e-5, 1e-5);
    REQUIRE_ALLCLOSE(right, right_ref, 1e-5, 1e-5);
    // Both signs occur, so a missing relu or a relu of the wrong operand would show.
    auto v = both_ref.to_vector<float>();
    REQUIRE(std::count(v.begin(), v.end(), 0.0f) > 0);
    REQUIRE(std::count_if(v.begin(), v.end(), [](float e) { return e > 0; }) > 0);
  }
  // No blocked operand: the composite, plain result.
  Tensor p = random_tensor({2, 32, 7, 7}, kFloat32, 36);
  Tensor q = random_tensor({2, 32, 7, 7}, kFloat32, 37);
  Tensor pq = ops::add_relu(p, q);
  REQUIRE(onednn::blocked_of(pq) == nullptr);
  REQUIRE(pq.to_vector<float>() == ops::relu(ops::add(p, q)).to_vector<float>());
}

TEST_CASE("add falls back where the blocked form does not apply", "[onednn][elementwise]") {
  FastPaths on(true);
  auto [a, a_ref] = conv_result(32, 7);
  // Broadcasting a [C,1,1] bias: reference kernel, plain result.
  Tensor bias = random_tensor({32, 1, 1}, kFloat32, 9);
  Tensor s = ops::add(a, bias);
  REQUIRE(onednn::blocked_of(s) == nullptr);
  REQUIRE_ALLCLOSE(s, ops::add(a_ref, bias), 1e-5, 1e-5);
  // float64 and plain operands: reference kernel.
  Tensor p = random_tensor({2, 32, 7, 7}, kFloat64, 10), q = random_tensor({2, 32, 7, 7}, kFloat64, 11);
  Tensor pq = ops::add(p, q);
  REQUIRE(pq.dtype() == kFloat64);
  REQUIRE(onednn::blocked_of(ops::add(p.to(kFloat32), q.to(kFloat32))) == nullptr);
}

TEST_CASE("a residual block on blocked tensors has the reference's values and gradients",
          "[onednn][elementwise]") {
  // out = relu(bn(conv2(relu(bn(conv1(x))))) + x); x is itself a blocked conv result, so the
  // engine sums x's two gradients, both blocked.
  // The block's end is relu(add(..)) or the fused add_relu; both against the reference.
  auto run = [](bool fast, bool fused, std::vector<Tensor>& grads) {
    FastPaths mode(fast);
    std::vector<Tensor> p{random_tensor({2, 3, 8, 8}, kFloat32, 21).set_requires_grad(),
                          random_tensor({58, 3, 3, 3}, kFloat32, 22, 0.3).set_requires_grad(),
                          random_tensor({58, 58, 3, 3}, kFloat32, 23, 0.1).set_requires_grad(),
                          random_tensor({58, 58, 3, 3}, kFloat32, 24, 0.1).set_requires_grad()};
    Tensor rm = zeros({58}), rv = ones({58});
    Conv2dOptions pad1;
    pad1.padding = {1, 1};
    Tensor x = conv2d(p[0], p[1], Tensor(), pad1);
    Tensor h = relu(batch_norm(conv2d(x, p[2], Tensor(), pad1), Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5));
    Tensor c2 = conv2d(h, p[3], Tensor(), pad1);
    Tensor b2 = batch_norm(c2, Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
    Tensor out = fused ? add_relu(b2, x) : relu(add(b2, x));
    if (fast) REQUIRE(onednn::blocked_of(out) != nullptr);
    Tensor loss = sum(mul(out, random_tensor(out.sizes(), kFloat32, 25)));
    loss.backward();
    for (auto& t : p) grads.push_back(t.grad());
    return loss;
  };
  for (bool fused : {false, true}) {
    INFO("fused add_relu " << fused);
    std::vector<Tensor> gf, gr;
    Tensor lf = run(true, fused, gf), lr = run(false, fused, gr);
    REQUIRE_ALLCLOSE(lf, lr, 1e-3, 1e-3);
    for (std::size_t i = 0; i < gf.size(); ++i) {
      INFO("parameter " << i);
      REQUIRE_ALLCLOSE(gf[i], gr[i], 1e-3, 1e-3);
    }
  }
}

#else

TEST_CASE("blocked add needs the oneDNN build", "[onednn][elementwise]") {
  WARN("built without oneDNN: no blocked layouts to test");
}

#endif
