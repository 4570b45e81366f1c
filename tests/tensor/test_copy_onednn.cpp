// Tensor::copy_'s oneDNN path (tensor/onednn/copy.h) against the reference strided loop (fast
// paths off): the copies a ShuffleNetV2 step makes (a cat into channel slices, contiguous() of a
// channel-shuffle permutation, a channel narrow made dense), a deferred blocked source read in its
// blocked layout, and the cases it must leave to the loop (broadcast source, float64, small).
#include "retort_config.h"
#include "support/helpers.h"
#include "tensor/conv.h"
#include "tensor/index.h"
#include "tensor/views.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/blocked.h"
#include "tensor/onednn/copy.h"
#endif

using namespace retort;
using testing::FastPaths;
using testing::random_tensor;

namespace {

// f() with the fast paths on and off; the two results must be bit-equal (a copy does no math).
void same(const std::function<Tensor()>& f) {
  Tensor fast, ref;
  {
    FastPaths on(true);
    fast = f().contiguous();
  }
  {
    FastPaths off(false);
    ref = f().contiguous();
  }
  REQUIRE(fast.sizes() == ref.sizes());
  REQUIRE_ALLCLOSE(fast, ref, 0.0, 0.0);
}

}  // namespace

TEST_CASE("copy_ through oneDNN equals the reference loop", "[onednn][copy]") {
  const Tensor x = random_tensor({8, 116, 16, 16}, kFloat32, 1);
  const Tensor y = random_tensor({8, 58, 16, 16}, kFloat32, 2);
  SECTION("cat into channel slices") {
    same([&] { return ops::cat({ops::narrow(x, 1, 0, 58), y}, 1); });
  }
  SECTION("channel shuffle: a permuted view made contiguous") {
    same([&] {
      Tensor v = ops::reshape(x, {8, 2, 58, 16, 16});
      return ops::reshape(ops::transpose(v, 1, 2).contiguous(), {8, 116, 16, 16});
    });
  }
  SECTION("a narrow view copied into a strided destination") {
    same([&] {
      Tensor out = zeros({8, 116, 16, 16});
      ops::narrow(out, 1, 58, 58).copy_(ops::narrow(x, 1, 0, 58));
      return out;
    });
  }
  SECTION("leaves broadcast, float64 and small copies to the loop") {
    same([&] {
      Tensor out = empty({8, 116, 16, 16});
      out.copy_(random_tensor({1, 116, 1, 16}, kFloat32, 3));
      return out;
    });
    same([&] { return ops::transpose(random_tensor({64, 48, 40}, kFloat64, 4), 0, 2).contiguous(); });
    same([&] { return ops::transpose(random_tensor({4, 5, 6}, kFloat32, 5), 0, 2).contiguous(); });
  }
}

#if RETORT_WITH_ONEDNN
TEST_CASE("copy_ reads a deferred blocked source in its blocked layout", "[onednn][copy]") {
  FastPaths on(true);
  const ops::Conv2dParams p{{1, 1}, {1, 1}, {1, 1}, 1};
  Tensor c = ops::conv2d_forward(random_tensor({8, 16, 16, 16}, kFloat32, 6),
                                 random_tensor({58, 16, 3, 3}, kFloat32, 7, 0.2), Tensor(), p);
  REQUIRE(onednn::blocked_of(c) != nullptr);
  Tensor out = zeros({8, 116, 16, 16});
  REQUIRE(onednn::copy(ops::narrow(out, 1, 58, 58), c));
  // The source's plain bytes were never written: it is still deferred.
  CHECK(onednn::blocked_of(c) != nullptr);
  Tensor ref = ops::conv2d_forward(random_tensor({8, 16, 16, 16}, kFloat32, 6),
                                   random_tensor({58, 16, 3, 3}, kFloat32, 7, 0.2), Tensor(), p)
                   .contiguous();
  REQUIRE_ALLCLOSE(ops::narrow(out, 1, 58, 58), ref, 0.0, 0.0);
  REQUIRE_ALLCLOSE(ops::narrow(out, 1, 0, 58), zeros({8, 58, 16, 16}), 0.0, 0.0);
}
#endif
