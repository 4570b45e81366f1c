// Learnable distillation modules (and the layers under them) are created in the dtype and device
// their TensorOptions ask for: every parameter and buffer has that dtype from the start, the
// values are the same draws as a float32 module's (so a float64 module equals a converted float32
// one to float32 rounding), and the module trains in that dtype. Bad module options are refused.
#include <catch2/catch.hpp>

#include "autograd/ops/reduce.h"
#include "kd/crd.h"
#include "kd/feature.h"
#include "kd/self_distill.h"
#include "kd/vid.h"
#include "nn/linear.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using namespace retort::kd;
using retort::testing::random_tensor;

namespace {

void require_dtype(const nn::Module& m, DType want) {
  for (auto& [k, v] : m.state_dict()) {
    INFO(k);
    if (v.dtype() != kInt64) REQUIRE(v.dtype() == want);
  }
}

// Two modules built from the same seed: one in float64, one in float32 then converted.
template <class Make>
void same_draws(Make make) {
  manual_seed(5);
  auto direct = make(TensorOptions{kFloat64});
  manual_seed(5);
  auto converted = make(TensorOptions{});
  converted->to(kFloat64);
  require_dtype(*direct, kFloat64);
  auto a = direct->state_dict(), b = converted->state_dict();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    REQUIRE(a[i].first == b[i].first);
    REQUIRE_ALLCLOSE(a[i].second, b[i].second, 1e-7, 1e-7);
  }
}

}  // namespace

TEST_CASE("layers and kd modules are created in the dtype asked for", "[kd]") {
  same_draws([](const TensorOptions& o) { return std::make_shared<nn::Linear>(5, 3, true, o); });
  same_draws([](const TensorOptions& o) {
    return std::make_shared<nn::Conv2d>(4, 6, 3, 1, 1, 1, 2, true, o);
  });
  for (HintKind k : {HintKind::Conv1x1, HintKind::Conv3x3, HintKind::Linear, HintKind::ConvReg})
    same_draws([k](const TensorOptions& o) {
      return std::make_shared<HintRegressor>(k, Shape{2, 3, 4, 4}, Shape{2, 5, 4, 4}, o);
    });
  same_draws([](const TensorOptions& o) {
    return std::make_shared<HintRegressor>(HintKind::ConvReg, Shape{2, 3, 4, 4}, Shape{2, 5, 8, 8}, o);
  });
  same_draws([](const TensorOptions& o) {
    return std::make_shared<nn::ConvTranspose2d>(4, 6, 3, 2, 1, 1, 2, true, 1, o);
  });
  same_draws([](const TensorOptions& o) { return std::make_shared<VIDRegressor>(3, 4, 5, VidOptions{}, o); });
  same_draws([](const TensorOptions& o) { return std::make_shared<Embed>(7, 4, o); });
  same_draws([](const TensorOptions& o) {
    return std::make_shared<AuxHead>(AuxHeadKind::ConvBottleneck, "x", Shape{2, 4, 3, 3}, 5, 6, o);
  });
  same_draws([](const TensorOptions& o) {
    return std::make_shared<CRD>(6, 5, 20, CrdOptions{.feat_dim = 4, .nce_k = 3,
                                                      .negatives = CrdNegatives::Uniform}, o);
  });
}

TEST_CASE("a float64 VID regressor trains in float64; bad VID options are refused", "[kd]") {
  VIDRegressor r(3, 4, 5, {.init_pred_var = 2.0}, TensorOptions{kFloat64});
  REQUIRE_ALLCLOSE(r.variance(), full({5}, 2.0, kFloat64), 1e-14, 1e-14);
  Tensor fs = random_tensor({2, 3, 4, 4}, kFloat64, 1).set_requires_grad(true);
  Tensor loss = vid_loss(r, fs, random_tensor({2, 5, 4, 4}, kFloat64, 2));
  REQUIRE(loss.dtype() == kFloat64);
  loss.backward();
  REQUIRE(r.log_scale.grad().dtype() == kFloat64);
  REQUIRE_THROWS_WITH(VIDRegressor(3, 4, 5, {.init_pred_var = 1e-6}),
                      Catch::Contains("VIDRegressor") && Catch::Contains("init_pred_var"));
  REQUIRE_THROWS_WITH(VIDRegressor(3, 4, 5, {.eps = -1.0}), Catch::Contains("eps"));
}

TEST_CASE("a float64 HintRegressor runs on float64 features", "[kd]") {
  // A HintRegressor built for float64 features runs on float64 features without a conversion.
  HintRegressor r(HintKind::Conv1x1, {2, 3, 4, 4}, {2, 5, 4, 4}, TensorOptions{kFloat64});
  REQUIRE(r(random_tensor({2, 3, 4, 4}, kFloat64, 3)).dtype() == kFloat64);
  REQUIRE(hint_loss(r, random_tensor({2, 3, 4, 4}, kFloat64, 3),
                    random_tensor({2, 5, 4, 4}, kFloat64, 4)).dtype() == kFloat64);
}
