// retort_bench: the four workloads of ../shared/bench/torch_seed_nets.py, measured the same way
// (batch 128, random normal input, Adam lr 1e-3, median over --steps after 3 warm-up steps), so
// the two programs' outputs compare line by line:
//   teacher_train  forward, cross-entropy, backward, Adam step on TeacherNet
//   student_train  the same on StudentNet
//   kd_step        teacher forward under no_grad + student forward/backward with
//                  0.25·T²·KL(softmax(t/T) ‖ softmax(s/T)) + 0.75·CE at T = 2, Adam step
//   teacher_infer  TeacherNet in eval mode, forward under no_grad
// and two of Retort's own (no peer line):
//   student_infer       StudentNet in eval mode, forward under no_grad (float32)
//   student_infer_int8  the same StudentNet made 8-bit quantisation-aware (nn::quantize_aware,
//                       ranges set by two training-mode forwards on the input) and run as an
//                       nn::Int8Model: oneDNN's int8 convolution and matmul, float max pooling
//                       (CPU only)
// usage: retort_bench [--threads N] [--steps S] [--device cpu|cuda|cuda:N] [--model NAME[,NAME...]]
//                     [--detect-anomaly]
// --detect-anomaly runs every workload with autograd's anomaly mode on (autograd/anomaly.h), to
// measure what its NaN/Inf checks cost.
// On a GPU every timed step ends with cuda::synchronize(), so a step is timed to its last kernel
// (kernels are queued asynchronously and would otherwise be timed only as launches).
// With --model NAME[,NAME…] (nn/zoo.h names, any case) it measures the model-zoo workloads
// instead (bench/bench_timing.h: NAME_train and NAME_infer at batch 64, the peer being
// bench/peer/torch_zoo.py). The last line, "# peak_rss_mb M", is the process's peak resident memory.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "bench_timing.h"
#include "nn/functional.h"
#include "nn/int8.h"
#include "nn/models.h"
#include "nn/quant.h"
#include "optim/adam.h"
#include "retort.h"
#include "retort_config.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/threads.h"

using namespace retort;
using bench::images_per_second;

namespace {

constexpr std::int64_t kBatch = 128;

std::function<void()> train_step(nn::Module& model, optim::Optimizer& opt, const Tensor& x, const Tensor& y) {
  return [&model, &opt, x, y] {
    opt.zero_grad();
    Tensor loss = F::cross_entropy(model(x), y);
    loss.backward();
    opt.step();
  };
}

std::vector<std::pair<std::string, double>> seed_workloads(int steps, Device dev) {
  manual_seed(0);
  Tensor x = randn({kBatch, 3, 32, 32}).to(dev);
  Tensor y = randint(0, 10, {kBatch}).to(dev);
  auto teacher = std::make_shared<nn::TeacherNet>();
  auto student = std::make_shared<nn::StudentNet>();
  teacher->to(dev);
  student->to(dev);
  optim::Adam t_opt(teacher->parameters(), {.lr = 1e-3});
  optim::Adam s_opt(student->parameters(), {.lr = 1e-3});

  std::vector<std::pair<std::string, double>> res;
  res.emplace_back("teacher_train", images_per_second(kBatch, steps, train_step(*teacher, t_opt, x, y)));
  res.emplace_back("student_train", images_per_second(kBatch, steps, train_step(*student, s_opt, x, y)));
  res.emplace_back("kd_step", images_per_second(kBatch, steps, [&] {
    const double T = 2.0;
    s_opt.zero_grad();
    Tensor tl;
    {
      NoGradGuard ng;
      tl = (*teacher)(x);
    }
    Tensor sl = (*student)(x);
    Tensor p = softmax(tl / T, -1);
    Tensor kl = sum(p * (log(p) - log_softmax(sl / T, -1))) / static_cast<double>(kBatch) * (T * T);
    Tensor loss = 0.25 * kl + 0.75 * F::cross_entropy(sl, y);
    loss.backward();
    s_opt.step();
  }));
  teacher->eval();
  res.emplace_back("teacher_infer", images_per_second(kBatch, steps, [&] {
    NoGradGuard ng;
    (*teacher)(x);
  }));
  student->eval();
  res.emplace_back("student_infer", images_per_second(kBatch, steps, [&] {
    NoGradGuard ng;
    (*student)(x);
  }));
  if (!dev.is_cuda()) {
    manual_seed(0);
    auto q = std::make_shared<nn::StudentNet>();
    nn::quantize_aware(*q, {.bits = 8});
    nn::Int8Model int8 = [&] {
      NoGradGuard ng;
      for (int i = 0; i < 2; ++i) (*q)(x);
      q->eval();
      return nn::Int8Model::from_sequentials(*q->features, *q->classifier);
    }();
    res.emplace_back("student_infer_int8", images_per_second(kBatch, steps, [&] { int8.forward(x); }));
  }
  return res;
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: retort_bench [--threads N] [--steps S] [--device cpu|cuda|cuda:N] [--model NAME[,NAME...]] [--detect-anomaly]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, steps = 20;
  std::string device = "cpu";
  std::vector<std::string> models;
  bool anomaly = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--detect-anomaly") {
      anomaly = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    if (a == "--threads") threads = std::atoi(argv[++i]);
    else if (a == "--steps") steps = std::atoi(argv[++i]);
    else if (a == "--device") device = argv[++i];
    else if (a == "--model") {
      std::stringstream list(argv[++i]);
      for (std::string m; std::getline(list, m, ',');) models.push_back(m);
    }
    else usage();
  }
  if (threads < 1 || steps < 1) usage();
  Device dev;
  try {
    dev = Device(device);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "retort_bench: %s\n", e.what());
    return 2;
  }
  if (dev.is_cuda() && !cuda::available()) {
    std::fprintf(stderr, "retort_bench: --device %s: %s\n", device.c_str(),
                 RETORT_WITH_CUDA ? "no CUDA device is present" : "this build has no CUDA (configure with -DRETORT_WITH_CUDA=ON)");
    return 2;
  }
  bench::g_on_gpu = dev.is_cuda();
  set_num_threads(threads);
  autograd::set_detect_anomaly(anomaly);
  std::vector<std::pair<std::string, double>> res;
  try {
    for (auto& m : models) m = nn::canonical_model_name(m);
    if (models.empty()) res = seed_workloads(steps, dev);
    for (const auto& m : models)
      for (auto& r : bench::zoo_workloads(m, steps, dev)) res.push_back(r);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "retort_bench: %s\n", e.what());
    return 2;
  }
  std::printf("# retort %s device=%s threads=%d batch=%lld steps=%d anomaly=%s\n", RETORT_VERSION,
              dev.str().c_str(), threads, static_cast<long long>(models.empty() ? kBatch : 64), steps,
              anomaly ? "on" : "off");
  for (auto& [name, v] : res) std::printf("%s %.1f img/s\n", name.c_str(), v);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("# peak_rss_mb %.1f\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  return 0;
}
