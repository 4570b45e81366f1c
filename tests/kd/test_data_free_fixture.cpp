// The data-free pieces against PyTorch 1.13 (tests/fixtures/kd/data_free.txt, written by
// tests/tools/make_data_free_fixtures.py from PyTorch's ops and the references' code): leaky_relu
// and nearest upsampling as DAFL's generator uses them, DeepInversion's TV prior after its jitter,
// and DAFL's generator loss with its default weights — values and gradients.
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/upsample.h"
#include "kd/data_free.h"
#include "kd/kd_fixture.h"

using namespace retort;
using namespace retort::testing;

TEST_CASE("data-free ops and losses match PyTorch", "[kd][data_free][fixture]") {
  const KdFixture fx = read_kd_fixture("data_free.txt");
  check_kd_case(fx, "leaky_relu", [&](const Tensor& v) { return sum(leaky_relu(v, 0.2) * fx.t("wl")); }, fx.t("x"));
  check_kd_case(fx, "upsample", [&](const Tensor& v) { return sum(upsample_nearest2d(v, 2) * fx.t("wu")); },
                fx.t("u"));
  check_kd_case(fx, "tv_jitter", [](const Tensor& v) { return kd::total_variation(kd::roll_flip(v, 1, -2, true)); },
                fx.t("img"));
  check_kd_case(fx, "dafl_logits", [&](const Tensor& v) { return kd::dafl_generator_loss(v, fx.t("f")).total; },
                fx.t("t"));
  check_kd_case(fx, "dafl_features", [&](const Tensor& v) { return kd::dafl_generator_loss(fx.t("t"), v).total; },
                fx.t("f"));
}
