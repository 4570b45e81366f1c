// Learning on real data: a StudentNet-like net trained on 2,000 Fashion-MNIST images must reach
// ≥ 80% on 1,000 held-out test images. Exercises conv, pooling, linear, dropout, cross-entropy,
// backward and Adam together; a wrong gradient anywhere shows up here as poor accuracy.
#include <filesystem>

#include "autograd/grad_mode.h"
#include "autograd/ops/reduce.h"
#include "data/fashion_mnist.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "optim/adam.h"
#include "support/helpers.h"
#include "tensor/elementwise.h"
#include "tensor/index.h"
#include "tensor/random.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

using namespace retort;

TEST_CASE("StudentNet learns Fashion-MNIST from 2,000 images", "[nn][learning]") {
  if (!std::filesystem::exists(std::string(data::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not installed (Debian package dataset-fashion-mnist); test not run");
    return;
  }
  auto train = data::load_fashion_mnist(data::Split::Train, data::kFashionMnistDir, 2000);
  auto test = data::load_fashion_mnist(data::Split::Test, data::kFashionMnistDir, 1000);
  auto norm = [](const Tensor& x) { return ops::mul_scalar(ops::add_scalar(x, -0.2860), 1.0 / 0.3530); };

  manual_seed(42);
  auto net = std::make_shared<nn::StudentNet>(1, 10, 28);
  optim::Adam opt(net->parameters(), {.lr = 2e-3});
  const std::int64_t batch = 64, n = 2000;
  for (int epoch = 0; epoch < 12; ++epoch) {
    Tensor order = randperm(n);
    for (std::int64_t s = 0; s + batch <= n; s += batch) {
      Tensor idx = ops::narrow(order, 0, s, batch);
      opt.zero_grad();
      Tensor loss = F::cross_entropy((*net)(norm(ops::index_select(train.images, 0, idx))),
                                     ops::index_select(train.labels, 0, idx));
      REQUIRE(std::isfinite(loss.item<double>()));
      loss.backward();
      opt.step();
    }
  }
  net->eval();
  NoGradGuard ng;
  Tensor pred = argmax((*net)(norm(test.images)), 1);
  double acc = static_cast<double>(ops::sum(ops::eq(pred, test.labels)).item<std::int64_t>()) / 1000.0;
  INFO("test accuracy " << acc);
  REQUIRE(acc >= 0.80);
}
