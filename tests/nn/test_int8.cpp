// Int8Model (nn/int8.h): a quantisation-aware StudentNet converted to integer layers computes
// what its fake-quantised forward computes (up to float rounding in the sums), with oneDNN's
// int8 primitives and with the reference loops, for observer and LSQ quantisers at 8 and 4 bits.
#include "autograd/grad_mode.h"
#include "nn/int8.h"
#include "nn/models.h"
#include "nn/quant.h"
#include "support/helpers.h"
#include "tensor/random.h"
#include "tensor/reduce.h"

using namespace retort;
using namespace retort::nn;

namespace {
double agreement(const Tensor& a, const Tensor& b) {
  auto x = ops::argmax(a, 1).to_vector<std::int64_t>(), y = ops::argmax(b, 1).to_vector<std::int64_t>();
  int same = 0;
  for (std::size_t i = 0; i < x.size(); ++i) same += x[i] == y[i];
  return static_cast<double>(same) / static_cast<double>(x.size());
}
}  // namespace

TEST_CASE("Int8Model reproduces the fake-quantised StudentNet", "[nn][int8]") {
  for (QuantConfig c : {QuantConfig{.bits = 8}, QuantConfig{.bits = 4, .lsq = true},
                        QuantConfig{.bits = 4, .first_last_bits = 0}}) {
    manual_seed(11);
    auto net = std::make_shared<StudentNet>();
    quantize_aware(*net, c);
    NoGradGuard ng;
    // Two training-mode forwards set the observers' ranges (and LSQ's steps).
    for (int i = 0; i < 2; ++i) (*net)(testing::random_tensor({32, 3, 32, 32}, kFloat32, 20 + i));
    net->eval();
    Tensor x = testing::random_tensor({64, 3, 32, 32}, kFloat32, 30);
    Tensor fake = (*net)(x);
    Int8Model int8 = Int8Model::from_sequentials(*net->features, *net->classifier);
    CHECK(int8.summary().find("int8 conv 3→16 k3 p1") != std::string::npos);
    double range = ops::max_all(fake).item<float>() - ops::min_all(fake).item<float>();
    for (bool fast : {true, false}) {
      testing::FastPaths paths(fast);
      Tensor y = int8.forward(x);
      REQUIRE(y.sizes() == fake.sizes());
      INFO("bits " << c.bits << (c.lsq ? " lsq" : " observer") << (fast ? " oneDNN" : " reference"));
      // Float sums in a different order can move a value across a rounding boundary of the next
      // layer's input grid: a few logits move by up to a step; most agree to float rounding.
      CHECK(testing::max_abs_diff(y, fake) < 0.01 * range);
      CHECK(agreement(y, fake) >= 0.95);
    }
  }
}

TEST_CASE("Int8Model refuses what it cannot run", "[nn][int8]") {
  auto net = std::make_shared<StudentNet>();
  CHECK_THROWS_WITH(Int8Model::from_sequentials(*net->features, *net->classifier),
                    Catch::Contains("cannot run Conv2d (convert with quantize_aware first"));
}
