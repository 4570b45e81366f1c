// The studies about the networks themselves: a smaller student (one conv layer) and the size /
// speed comparison of teacher, baseline student and distilled student.
#include <chrono>
#include <cstdio>
#include <functional>

#include "nn/functional.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "optim/adam.h"
#include "retort.h"
#include "studies/study.h"
#include "tensor/cuda/cuda_backend.h"

namespace retort::examples::studies {

namespace {

// The one-conv-layer student (defined here: only this study uses it). For [N, 3, 32, 32]:
//   features   = Sequential(Conv2d(3→16, 3, p1), ReLU, MaxPool2d(4))       → [N, 16, 8, 8]
//   classifier = Sequential(Linear(1024 → 256), ReLU, Dropout(0.1), Linear(256 → 10))
// i.e. StudentNet with its second conv stage removed (one 4×4 pool instead of two 2×2 pools),
// the classifier unchanged: 265,418 parameters (StudentNet: 267,738).
class OneConvStudent : public nn::Module {
 public:
  OneConvStudent() {
    features = register_module("features", nn::make_sequential(std::make_shared<nn::Conv2d>(3, 16, 3, 1, 1),
                                                               std::make_shared<nn::ReLU>(),
                                                               std::make_shared<nn::MaxPool2d>(4)));
    classifier = register_module(
        "classifier", nn::make_sequential(std::make_shared<nn::Linear>(1024, 256), std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Dropout>(0.1), std::make_shared<nn::Linear>(256, 10)));
  }
  Tensor forward(const Tensor& x) override { return (*classifier)(flatten((*features)(x), 1)); }
  std::string type_name() const override { return "OneConvStudent"; }
  std::shared_ptr<nn::Sequential> features, classifier;
};

// Multiply-accumulates of one image, from the shapes seen in a forward of [1, 3, 32, 32]:
// Conv2d: |output| · C_in/groups · KH · KW; Linear: |output| · IN (bias adds, activations and
// pooling are not counted).
std::int64_t macs(nn::Module& net) {
  std::int64_t total = 0;
  std::vector<nn::HookHandle> hooks;
  for (const auto& [path, m] : net.named_modules()) {
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m.get()))
      hooks.push_back(m->register_forward_hook([&total, conv](const nn::Module&, const Tensor&, const Tensor& out) {
        total += out.numel() * conv->in_channels / conv->options.groups * conv->kernel_size[0] * conv->kernel_size[1];
      }));
    else if (auto* lin = dynamic_cast<nn::Linear*>(m.get()))
      hooks.push_back(m->register_forward_hook(
          [&total, lin](const nn::Module&, const Tensor&, const Tensor& out) { total += out.numel() * lin->in_features; }));
  }
  NoGradGuard ng;
  net.eval();
  net(zeros({1, 3, 32, 32}, kFloat32, device_of(net)));
  net.train();
  return total;
}

// Images per second of `step` on batches of `batch`: 3 warm-up calls, then calls for ≥ `seconds`
// (at least 5 calls).
double throughput(const std::function<void()>& step, std::int64_t batch, double seconds) {
  for (int i = 0; i < 3; ++i) step();
  cuda::synchronize();  // GPU work is queued: time it to its end (a no-op without a GPU)
  auto t0 = std::chrono::steady_clock::now();
  int n = 0;
  double secs = 0;
  do {
    step();
    cuda::synchronize();
    ++n;
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (secs < seconds || n < 5);
  return static_cast<double>(n * batch) / secs;
}

}  // namespace

void small_student(Context& c) {
  const int E = c.args().epochs;
  auto one_conv = [] { return std::shared_ptr<nn::Module>(std::make_shared<OneConvStudent>()); };
  RunSpec b1 = c.baseline_spec(E), k1 = c.kd_spec(E, 2.0, 0.25, 0.75);
  RunSpec b2 = b1, k2 = k1;
  b2.key = b2.name = "ce_oneconv";
  k2.key = k2.name = k1.key + "_oneconv";
  b2.make_student = k2.make_student = one_conv;
  Table t{"small-student: CE vs 0.25·T²·KL + 0.75·CE (T = 2), teacher " + std::to_string(c.args().teacher_epochs) +
              " epochs (" + fmt(c.teacher(c.args().teacher_epochs).acc, 2) + "%), " + std::to_string(E) + " epochs",
          {"student", "params", "MACs", "CE last acc", "KD last acc", "KD vs CE"}, {}};
  for (auto [name, b, k] : {std::tuple{"StudentNet (2 conv)", b1, k1}, std::tuple{"OneConvStudent (1 conv)", b2, k2}}) {
    const Trained& tb = c.run(b);
    RunResult rb = tb.result(E), rk = c.run(k).result(E);
    char g[32];
    std::snprintf(g, sizeof g, "%+.2f", rk.last - rb.last);
    t.add({name, std::to_string(tb.net->num_parameters()), std::to_string(macs(*tb.net)), fmt(rb.last, 2),
           fmt(rk.last, 2), g});
  }
  c.report("small-student", t, {4, 5}, "test accuracy (%)");
}

void size_speed(Context& c) {
  const std::int64_t B = c.args().batch;
  const CifarData& d = c.data();
  Tensor x = narrow(d.train_norm, 0, 0, std::min<std::int64_t>(B, d.train_norm.size(0))).to(d.device);
  Tensor y = narrow(d.train_labels, 0, 0, x.size(0)).to(d.device);
  manual_seed(c.args().seed);
  auto teacher = std::make_shared<nn::TeacherNet>();
  auto student = std::make_shared<nn::StudentNet>();
  teacher->to(d.device);
  student->to(d.device);
  Tensor cached;
  {
    NoGradGuard ng;
    teacher->eval();
    cached = (*teacher)(x);
  }
  auto infer = [&](nn::Module& net) {
    return throughput([&] { NoGradGuard ng; net.eval(); net(x); }, x.size(0), c.args().timing);
  };
  // One Adam step of CE (teacher, baseline), or of 0.25·T²·KL + 0.75·CE with the teacher run
  // under no_grad each step (live) or its logits given (cached).
  auto train = [&](nn::Module& net, int kd_mode) {
    net.train();
    optim::Adam opt(net.parameters(), {.lr = c.args().lr});
    kd::Term kl = seed_kl_term(2.0, 0.25);
    return throughput([&] {
      opt.zero_grad();
      kd::Context ctx;
      ctx.targets = y;
      ctx.student_logits = net(x);
      Tensor loss = F::cross_entropy(ctx.student_logits, y);
      if (kd_mode > 0) {
        if (kd_mode == 1) {
          NoGradGuard ng;
          ctx.teacher_logits = (*teacher)(x);
        } else {
          ctx.teacher_logits = cached;
        }
        loss = kl.fn(ctx) * 0.25 + loss * 0.75;
      }
      loss.backward();
      opt.step();
    }, x.size(0), c.args().timing);
  };
  Table t{"size-speed: batch " + std::to_string(x.size(0)) + ", " + std::to_string(c.args().threads) +
              " threads (freshly initialised nets: speed does not depend on the weights)",
          {"model", "params", "MACs/image", "infer img/s", "train img/s"}, {}};
  auto row = [&](const std::string& name, nn::Module& net, int kd_mode) {
    std::printf("timing %s...\n", name.c_str());
    t.add({name, std::to_string(net.num_parameters()), std::to_string(macs(net)), fmt(infer(net), 0),
           fmt(train(net, kd_mode), 0)});
  };
  row("teacher (CE)", *teacher, 0);
  row("student (CE)", *student, 0);
  row("kd_student (live teacher)", *student, 1);
  row("kd_student (cached logits)", *student, 2);
  c.report("size-speed", t, {4, 5}, "images per second");
}

}  // namespace retort::examples::studies
