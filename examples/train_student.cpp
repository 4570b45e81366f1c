// train_student: the seed StudentNet (Conv-ReLU-Pool ×2, Linear-ReLU-Dropout-Linear), adapted to
// 1×28×28 input, trained on Fashion-MNIST with Adam and cross-entropy. Prints a progress line per
// batch (loss, running accuracy, images/s, ETA) and test accuracy after each epoch.
// usage: train_student [--data DIR] [--epochs E] [--batch B] [--lr LR] [--threads N] [--seed S]
//                      [--train-limit N] [--test-limit N] [--detect-anomaly]
// --detect-anomaly turns autograd's anomaly mode on for the whole run (autograd/anomaly.h).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/flags.h"
#include "common/progress.h"
#include "data/fashion_mnist.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "optim/adam.h"
#include "retort.h"
#include "tensor/threads.h"

using namespace retort;

namespace {

struct Args {
  std::string data = data::kFashionMnistDir;
  int epochs = 5;
  std::int64_t batch = 128;
  double lr = 1e-3;
  int threads = 2;
  std::uint64_t seed = 42;
  std::int64_t train_limit = -1, test_limit = -1;
};

[[noreturn]] void usage(const std::string& why) {
  examples::usage_exit("train_student", why,
                       "usage: train_student [--data DIR] [--epochs E] [--batch B] [--lr LR] [--threads N] [--seed S]\n"
                       "                     [--train-limit N] [--test-limit N] [--detect-anomaly]\n"
                       "Trains the seed StudentNet (1x28x28) on Fashion-MNIST with Adam and cross-entropy.\n"
                       "Defaults: --data /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist),\n"
                       "5 epochs, batch 128, lr 1e-3, 2 threads, seed 42; --train-limit/--test-limit N: the\n"
                       "first N images of the split (default: all of it).\n"
                       "--detect-anomaly: stop at the first NaN/Inf in an op's output or gradient, naming the op and its\n"
                       "shapes (autograd's anomaly mode for the whole run; slower; see docs/reliability.md).\n");
}

Args parse(int argc, char** argv) {
  using examples::Flags;
  Args a;
  Flags f(usage);
  f.value("--data", a.data);
  f.value("--epochs", a.epochs, Flags::positive);
  f.value("--batch", a.batch, Flags::positive);
  f.value("--lr", a.lr, Flags::positive);
  f.value("--threads", a.threads, Flags::positive);
  f.value("--seed", a.seed);
  f.value("--train-limit", a.train_limit, Flags::positive);
  f.value("--test-limit", a.test_limit, Flags::positive);
  f.action("--detect-anomaly", [] { autograd::set_detect_anomaly(true); });
  f.parse(argc, argv);
  f.check(a.threads <= examples::kMaxThreads, "--threads " + std::to_string(a.threads) + " is more than " +
                                                  std::to_string(examples::kMaxThreads));
  // Fashion-MNIST's train split has 60,000 images.
  const std::int64_t train_size = a.train_limit > 0 ? a.train_limit : 60000;
  f.check(a.batch <= train_size, "--batch " + std::to_string(a.batch) + " is larger than the train split (" +
                                     std::to_string(train_size) + " images)");
  return a;
}

// Fashion-MNIST's pixel mean and standard deviation over the training set.
Tensor normalise(const Tensor& x) { return (x - 0.2860) / 0.3530; }

double evaluate(nn::Module& net, const data::FashionMnist& test, std::int64_t batch) {
  NoGradGuard ng;
  net.eval();
  std::int64_t correct = 0, n = test.labels.numel();
  for (std::int64_t s = 0; s < n; s += batch) {
    std::int64_t len = std::min(batch, n - s);
    Tensor logits = net(normalise(narrow(test.images, 0, s, len)));
    Tensor pred = argmax(logits, 1);
    correct += sum(eq(pred, narrow(test.labels, 0, s, len))).item<std::int64_t>();
  }
  net.train();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    set_num_threads(a.threads);
    auto train = data::load_fashion_mnist(data::Split::Train, a.data, a.train_limit);
    auto test = data::load_fashion_mnist(data::Split::Test, a.data, a.test_limit);
    manual_seed(a.seed);
    auto net = std::make_shared<nn::StudentNet>(1, 10, 28);
    optim::Adam opt(net->parameters(), {.lr = a.lr});
    const std::int64_t n = train.labels.numel();
    // An empty split (a file whose header says 0 images) would train on nothing and report 0/0.
    RETORT_CHECK(n > 0 && test.labels.numel() > 0, a.data, ": empty split (", n, " train / ",
                 test.labels.numel(), " test images)");
    RETORT_CHECK(a.batch <= n, "--batch ", a.batch, " is larger than the train split (", n, " images)");
    const std::int64_t steps = (n + a.batch - 1) / a.batch;
    std::printf("StudentNet (%lld parameters) on Fashion-MNIST: %lld train / %lld test images, batch %lld, "
                "Adam lr %g, %d threads\n",
                static_cast<long long>(net->num_parameters()), static_cast<long long>(n),
                static_cast<long long>(test.labels.numel()), static_cast<long long>(a.batch), a.lr, a.threads);
    for (int epoch = 1; epoch <= a.epochs; ++epoch) {
      Tensor order = randperm(n);
      examples::Progress bar("epoch " + std::to_string(epoch) + "/" + std::to_string(a.epochs), steps, n);
      for (std::int64_t step = 0; step < steps; ++step) {
        std::int64_t len = std::min(a.batch, n - step * a.batch);
        Tensor idx = narrow(order, 0, step * a.batch, len);
        Tensor x = normalise(index_select(train.images, 0, idx));
        Tensor y = index_select(train.labels, 0, idx);
        opt.zero_grad();
        Tensor logits = (*net)(x);
        Tensor loss = F::cross_entropy(logits, y);
        loss.backward();
        opt.step();
        bar.update(len, loss.item<double>(), sum(eq(argmax(logits, 1), y)).item<std::int64_t>());
      }
      std::printf("\repoch %d/%d done in %s: train loss %.4f acc %.1f%%, test acc %.2f%%            \n", epoch,
                  a.epochs, examples::clock_str(bar.seconds()).c_str(), bar.mean_loss(), bar.accuracy(),
                  evaluate(*net, test, 1000));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\ntrain_student: %s\n", e.what());
    return 1;
  }
  return 0;
}
