// zoo_layers: where a train step of the zoo's mobile nets spends its convolution time. For each
// model (default MobileNetV2 and ShuffleV2; any zoo name may be given) it finds every Conv2d and
// its input size with one tapped forward, groups the layers by configuration
// (C_in, C_out, k, stride, groups, H), and times each configuration in isolation on the raw ops
// (tensor/conv.h), float32, batch 64:
//   fwd   conv2d_forward, output made plain NCHW (in these nets BatchNorm reads every conv output,
//         and it reads plain memory)
//   bwd   conv2d_backward of a random gy: input and weight gradients, gx made plain
// and prints the fastest of --reps runs in ms (the machine is shared: the minimum is the kernel's
// own cost, a median there mostly measures other people's jobs), GFLOP/s (forward 2·N·C_out·OH·OW·(C_in/G)·k², backward twice that),
// the layer count, and per model the summed conv time of one train step against a whole train
// step (forward, sum of the logits, backward; no optimiser) timed the same way. The isolated sum
// also pays each layer's input reorder, which in the net a preceding conv can save.
// --step-only skips the per-layer tables (e.g. to read a whole step's primitives with
// ONEDNN_VERBOSE=1).
// usage: zoo_layers [--threads N] [--reps R] [--step-only] [model ...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "retort.h"
#include "tensor/conv.h"

using namespace retort;

namespace {

constexpr std::int64_t kBatch = 64;

double min_ms(int reps, const std::function<void()>& fn) {
  fn();
  fn();
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return *std::min_element(ms.begin(), ms.end());
}

// Reading data() turns a deferred (blocked) result into plain NCHW, as the next op would.
void make_plain(const Tensor& t) { (void)t.data<float>(); }

struct Config {
  std::int64_t cin, cout, k, stride, groups, h;
  auto key() const { return std::tie(cin, cout, k, stride, groups, h); }
  bool operator<(const Config& o) const { return key() < o.key(); }
};

// Every Conv2d of the model with its input size, counted per configuration.
std::map<Config, int> conv_configs(nn::ZooNet& model) {
  std::vector<std::pair<std::shared_ptr<nn::Conv2d>, nn::FeatureTap>> convs;
  for (auto& [path, m] : model.named_modules())
    if (auto c = std::dynamic_pointer_cast<nn::Conv2d>(m)) convs.emplace_back(c, model.tap(path));
  {
    NoGradGuard ng;
    model.eval();
    model(randn({2, 3, 32, 32}));
  }
  std::map<Config, int> out;
  for (auto& [c, tap] : convs)
    ++out[{c->in_channels, c->out_channels, c->kernel_size[0], c->options.stride[0],
           c->options.groups, tap.input().size(2)}];
  return out;
}

void bench_model(const std::string& name, int reps, bool step_only) {
  auto model = nn::create_model(name);
  auto configs = step_only ? std::map<Config, int>{} : conv_configs(*model);
  std::printf("\n## %s (batch %lld, float32)\n", nn::canonical_model_name(name).c_str(),
              static_cast<long long>(kBatch));
  std::printf("%5s %5s %2s %2s %5s %3s %3s | %8s %7s | %8s %7s | %9s\n", "C_in", "C_out", "k", "s",
              "G", "H", "n", "fwd ms", "GF/s", "bwd ms", "GF/s", "n*(f+b)");
  double conv_total = 0;
  for (const auto& [c, count] : configs) {
    ops::Conv2dParams p;
    p.stride = {c.stride, c.stride};
    p.padding = {c.k / 2, c.k / 2};
    p.groups = c.groups;
    Tensor x = randn({kBatch, c.cin, c.h, c.h});
    Tensor w = randn({c.cout, c.cin / c.groups, c.k, c.k});
    Shape ys = ops::conv2d_output_shape(x, w, Tensor(), p);
    Tensor gy = randn(ys);
    ops::Conv2dSaved saved;
    double fwd = min_ms(reps, [&] {
      make_plain(ops::conv2d_forward(x, w, Tensor(), p, &saved));
    });
    double bwd = min_ms(reps, [&] {
      auto g = ops::conv2d_backward(gy, x, w, {true, true, false}, p, saved);
      make_plain(g.input);
    });
    double flop = 2.0 * static_cast<double>(kBatch * ys[1] * ys[2] * ys[3] * (c.cin / c.groups) *
                                            c.k * c.k);
    double total = count * (fwd + bwd);
    conv_total += total;
    std::printf("%5lld %5lld %2lld %2lld %5lld %3lld %3d | %8.3f %7.1f | %8.3f %7.1f | %9.2f\n",
                static_cast<long long>(c.cin), static_cast<long long>(c.cout),
                static_cast<long long>(c.k), static_cast<long long>(c.stride),
                static_cast<long long>(c.groups), static_cast<long long>(c.h), count, fwd,
                flop / fwd * 1e-6, bwd, 2 * flop / bwd * 1e-6, total);
  }
  model->train();
  Tensor x = randn({kBatch, 3, 32, 32});
  double step = min_ms(reps, [&] {
    model->zero_grad();
    autograd::backward(sum((*model)(x)));
  });
  std::printf("convs, summed per train step: %.1f ms; whole train step (fwd+bwd, no optimiser): "
              "%.1f ms (%.0f%% in convs measured alone)\n",
              conv_total, step, 100.0 * conv_total / step);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, reps = 9;
  bool step_only = false;
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--step-only") step_only = true;
    else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "usage: zoo_layers [--threads N] [--reps R] [--step-only] [model ...]\n");
      return 2;
    } else models.push_back(a);
  }
  if (threads < 1 || reps < 1) return 2;
  if (models.empty()) models = {"MobileNetV2", "ShuffleV2"};
  set_num_threads(threads);
  manual_seed(0);
  std::printf("# zoo_layers retort %s threads=%d reps=%d (fastest run, ms)\n", RETORT_VERSION, threads,
              reps);
  try {
    for (const auto& m : models) bench_model(m, reps, step_only);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zoo_layers: %s\n", e.what());
    return 1;
  }
  return 0;
}
