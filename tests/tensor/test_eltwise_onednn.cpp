// oneDNN eltwise fast path: every kind against the reference elementwise kernels (fast path
// switched off), on packed and channels-last inputs, backward from the saved forward output (or
// input), the cases where it must decline so the caller falls back, and relu_backward_reusing,
// which writes over the gradient's memory only when nothing else can read it (its use by the
// engine: tests/autograd/test_elementwise_grad.cpp).
#include <cmath>

#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/conv.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/elementwise.h"
#include "tensor/views.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/blocked.h"
#include "tensor/onednn/common.h"
#include "tensor/onednn/eltwise.h"
#endif

using namespace retort;
using testing::random_tensor;

#if RETORT_WITH_ONEDNN
using onednn::Eltwise;

namespace {

// Channels-last [2,5,3,4]: memory order N,H,W,C (dense, not contiguous).
Tensor channels_last(std::uint64_t seed, bool positive) {
  Tensor t = random_tensor({2, 3, 4, 5}, kFloat32, seed);
  if (positive) t = ops::add_scalar(ops::abs(t), 0.1);
  return ops::permute(t, {0, 3, 1, 2});
}

// Turns the fast path on for a test case (whatever RETORT_ONEDNN says) and restores it after.
struct FastPathOn {
  bool was = onednn::enabled();
  FastPathOn() { onednn::set_enabled(true); }
  ~FastPathOn() { onednn::set_enabled(was); }
};

Tensor reference(Eltwise k, const Tensor& x) {
  onednn::set_enabled(false);
  Tensor y;
  switch (k) {
    case Eltwise::Relu: y = ops::relu(x); break;
    case Eltwise::Sigmoid: y = ops::sigmoid(x); break;
    case Eltwise::Tanh: y = ops::tanh(x); break;
    case Eltwise::Exp: y = ops::exp(x); break;
    case Eltwise::Log: y = ops::log(x); break;
    case Eltwise::Sqrt: y = ops::sqrt(x); break;
    case Eltwise::Abs: y = ops::abs(x); break;
  }
  onednn::set_enabled(true);
  return y;
}

bool positive_domain(Eltwise k) { return k == Eltwise::Log || k == Eltwise::Sqrt; }

const Eltwise kAll[] = {Eltwise::Relu, Eltwise::Sigmoid, Eltwise::Tanh, Eltwise::Exp,
                        Eltwise::Log,  Eltwise::Sqrt,    Eltwise::Abs};

}  // namespace

TEST_CASE("eltwise forward matches the reference for every kind and layout", "[tensor][onednn]") {
  FastPathOn on;
  for (Eltwise k : kAll) {
    INFO("kind " << static_cast<int>(k));
    Tensor packed = random_tensor({3, 17}, kFloat32, 1);
    if (positive_domain(k)) packed = ops::add_scalar(ops::abs(packed), 0.1);
    for (const Tensor& x : {packed, channels_last(2, positive_domain(k))}) {
      Tensor y = cpu::empty_same_layout(x, kFloat32);
      REQUIRE(onednn::eltwise_forward(k, x, y));
      REQUIRE(y.strides() == x.strides());
      REQUIRE_ALLCLOSE(y, reference(k, x), 1e-5, 1e-5);  // oneDNN's log is accurate to ~1e-6 abs
    }
  }
}

TEST_CASE("eltwise backward matches the derivative from the saved tensor", "[tensor][onednn]") {
  FastPathOn on;
  for (Eltwise k : kAll) {
    INFO("kind " << static_cast<int>(k));
    Tensor x = channels_last(3, positive_domain(k));
    Tensor g = channels_last(4, false);
    Tensor y = reference(k, x);
    REQUIRE(y.strides() == x.strides());
    // Derivative in terms of the forward output y (or of x for log and abs), in float64.
    auto xv = x.to_vector<double>(), yv = y.to_vector<double>(), gv = g.to_vector<double>();
    std::vector<double> expect(xv.size());
    for (std::size_t i = 0; i < xv.size(); ++i) {
      double d = 0;
      switch (k) {
        case Eltwise::Relu: d = yv[i] > 0 ? 1 : 0; break;
        case Eltwise::Sigmoid: d = yv[i] * (1 - yv[i]); break;
        case Eltwise::Tanh: d = 1 - yv[i] * yv[i]; break;
        case Eltwise::Exp: d = yv[i]; break;
        case Eltwise::Log: d = 1 / xv[i]; break;
        case Eltwise::Sqrt: d = 0.5 / yv[i]; break;
        case Eltwise::Abs: d = xv[i] > 0 ? 1 : (xv[i] < 0 ? -1 : 0); break;
      }
      expect[i] = gv[i] * d;
    }
    const bool from_input = k == Eltwise::Log || k == Eltwise::Abs;
    Tensor gx = cpu::empty_same_layout(x, kFloat32);
    REQUIRE(onednn::eltwise_backward(k, g, from_input ? x : y, gx));
    REQUIRE_ALLCLOSE(gx, from_vector(expect, x.sizes(), kFloat64), 1e-5, 1e-4);
  }
  // The dispatch's activation backwards take the fast path and agree with the reference.
  Tensor x = random_tensor({4, 9}, kFloat32, 5), g = random_tensor({4, 9}, kFloat32, 6);
  Tensor ys = ops::sigmoid(x), yt = ops::tanh(x), yr = ops::relu(x);
  Tensor fs = ops::sigmoid_backward(g, ys), ft = ops::tanh_backward(g, yt), fr = ops::relu_backward(g, yr);
  onednn::set_enabled(false);
  REQUIRE_ALLCLOSE(fs, ops::sigmoid_backward(g, ys), 1e-6, 1e-5);
  REQUIRE_ALLCLOSE(ft, ops::tanh_backward(g, yt), 1e-6, 1e-5);
  REQUIRE_ALLCLOSE(fr, ops::relu_backward(g, yr), 0, 0);
  onednn::set_enabled(true);
}

TEST_CASE("eltwise declines what it cannot take", "[tensor][onednn]") {
  FastPathOn on;
  Tensor x = random_tensor({4, 6}, kFloat32, 7);
  Tensor y = empty({4, 6});
  // float64, a non-dense slice, mismatched layouts, different shapes, disabled.
  REQUIRE_FALSE(onednn::eltwise_forward(Eltwise::Relu, x.to(kFloat64), empty({4, 6}, kFloat64)));
  Tensor sl = ops::slice(x, 1, 0, 6, 2);
  REQUIRE_FALSE(onednn::eltwise_forward(Eltwise::Relu, sl, empty({4, 3})));
  REQUIRE_FALSE(onednn::eltwise_forward(Eltwise::Relu, ops::transpose(x, 0, 1), empty({6, 4})));
  REQUIRE_FALSE(onednn::eltwise_forward(Eltwise::Relu, x, empty({6, 4})));
  REQUIRE_FALSE(onednn::eltwise_backward(Eltwise::Relu, x, ops::relu(x), ops::transpose(empty({6, 4}), 0, 1)));
  onednn::set_enabled(false);
  REQUIRE_FALSE(onednn::eltwise_forward(Eltwise::Relu, x, y));
  onednn::set_enabled(true);
  // Size-1 dims with arbitrary strides address nothing and do not block the fast path.
  Tensor a = as_strided(x, {4, 1, 6}, {6, 99, 1}, 0);
  Tensor b = as_strided(empty({24}), {4, 1, 6}, {6, 1, 1}, 0);
  REQUIRE(onednn::eltwise_forward(Eltwise::Abs, a, b));
  REQUIRE_ALLCLOSE(b, ops::reshape(reference(Eltwise::Abs, x), {4, 1, 6}), 0, 0);
}

TEST_CASE("relu_backward_reusing writes over a plain gradient only when it is the sole holder",
          "[tensor][onednn]") {
  FastPathOn on;
  Tensor g0 = random_tensor({4, 5, 6}, kFloat32, 21);
  Tensor y = ops::relu(random_tensor({4, 5, 6}, kFloat32, 22));
  onednn::set_enabled(false);
  const Tensor expected = ops::relu_backward(g0, y);
  onednn::set_enabled(true);

  Tensor g = g0.clone();
  const void* bytes = g.raw_data();
  Tensor r = ops::relu_backward_reusing(g, y);
  REQUIRE(r.raw_data() == bytes);
  REQUIRE_ALLCLOSE(r, expected, 0, 0);

  // A second tensor on the same storage (a copy, or a view) could read g later: g stays intact.
  Tensor shared = g0.clone();
  Tensor copy = shared;
  Tensor r2 = ops::relu_backward_reusing(shared, y);
  REQUIRE(r2.raw_data() != shared.raw_data());
  REQUIRE_ALLCLOSE(copy, g0, 0, 0);
  REQUIRE_ALLCLOSE(r2, expected, 0, 0);
  Tensor base = ops::reshape(g0.clone(), {120});
  Tensor view = ops::reshape(base, {4, 5, 6});
  REQUIRE(view.raw_data() == base.raw_data());
  Tensor r3 = ops::relu_backward_reusing(view, y);
  REQUIRE(r3.raw_data() != base.raw_data());
  REQUIRE_ALLCLOSE(ops::reshape(base, {4, 5, 6}), g0, 0, 0);
  REQUIRE_ALLCLOSE(r3, expected, 0, 0);

  // Fast path off: the reference kernel, into a new tensor.
  onednn::set_enabled(false);
  Tensor g4 = g0.clone();
  Tensor r4 = ops::relu_backward_reusing(g4, y);
  REQUIRE(r4.raw_data() != g4.raw_data());
  REQUIRE_ALLCLOSE(r4, expected, 0, 0);
}

TEST_CASE("relu_backward_reusing writes over a deferred blocked gradient's buffer", "[tensor][onednn]") {
  FastPathOn on;
  // Convolution results with 32 channels come back deferred in one blocked layout.
  const ops::Conv2dParams p{{1, 1}, {1, 1}, {1, 1}, 1};
  const Tensor w = random_tensor({32, 8, 3, 3}, kFloat32, 23, 0.3);
  const Tensor b = random_tensor({32}, kFloat32, 24);
  auto blocked_result = [&](std::uint64_t seed) {
    return ops::conv2d_forward(random_tensor({2, 8, 6, 6}, kFloat32, seed), w, b, p);
  };
  Tensor y = ops::relu(blocked_result(25));
  REQUIRE(onednn::blocked_of(y));
  Tensor g0 = blocked_result(26);
  REQUIRE(onednn::blocked_of(g0));
  // The reference reads plain bytes, which ends a tensor's blocked copy: it gets its own y.
  const Tensor y_plain = ops::relu(blocked_result(25));
  onednn::set_enabled(false);
  const Tensor expected = ops::relu_backward(g0, y_plain);
  onednn::set_enabled(true);
  REQUIRE(onednn::blocked_of(y));

  Tensor g = blocked_result(26);
  const void* buffer = onednn::blocked_of(g)->buffer.raw_data();
  Tensor r = ops::relu_backward_reusing(g, y);
  REQUIRE(onednn::blocked_of(r));
  REQUIRE(onednn::blocked_of(r)->buffer.raw_data() == buffer);
  REQUIRE_ALLCLOSE(r, expected, 0, 0);

  // Held twice: the result gets its own buffer and g still reads as before.
  Tensor held = blocked_result(26);
  Tensor copy = held;
  Tensor r2 = ops::relu_backward_reusing(held, y);
  REQUIRE(onednn::blocked_of(r2)->buffer.raw_data() != onednn::blocked_of(held)->buffer.raw_data());
  REQUIRE_ALLCLOSE(r2, expected, 0, 0);
  REQUIRE_ALLCLOSE(copy, g0, 0, 0);
}

#else

TEST_CASE("without oneDNN the activations run on the reference kernels", "[tensor][onednn]") {
  Tensor x = from_vector({-1, 2}, {2}, kFloat32);
  REQUIRE(ops::relu(x).to_vector<double>() == std::vector<double>{0, 2});
}

#endif
