// [cuda] Whole programs on the GPU: the seed's TeacherNet/StudentNet trained for a few steps on
// CUDA follow the CPU's loss curve (float64: to rounding; float32: within cuDNN's and oneDNN's
// different summation orders), the KD step of the seed experiment (frozen teacher, Distiller)
// runs on the GPU with no gradient reaching the teacher, and the runtime pieces (host↔device
// copies, Module::to, the caching allocator) behave as documented.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
#include "kd/distiller.h"
#include "kd/response.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "support/cuda_guard.h"
#include "support/helpers.h"
#include "tensor/random.h"

using namespace retort;
using retort::testing::kCuda;
using retort::testing::random_tensor;

namespace {

// Losses of `steps` Adam steps of a fresh seeded StudentNet on a fixed batch, on device d.
std::vector<double> student_curve(Device d, DType dt, int steps) {
  manual_seed(7);
  auto net = std::make_shared<nn::StudentNet>();
  net->to(dt);
  net->to(d);
  Tensor x = random_tensor({16, 3, 32, 32}, dt, 11).to(d);
  Tensor y = randint(0, 10, {16}).to(d);
  optim::Adam opt(net->parameters(), {.lr = 1e-3});
  std::vector<double> losses;
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    Tensor loss = F::cross_entropy((*net)(x), y);
    loss.backward();
    opt.step();
    losses.push_back(loss.item<double>());
  }
  return losses;
}

}  // namespace

TEST_CASE("host-device copies round-trip every dtype and layout", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    Tensor h = random_tensor({5, 7, 3}, kFloat64, 1).to(dt);
    Tensor g = h.to(kCuda);
    REQUIRE(g.device() == kCuda);
    REQUIRE_ALLCLOSE(g.to(kCPU), h, 0, 0);
    Tensor view = transpose(h, 0, 2);  // non-contiguous source
    REQUIRE_ALLCLOSE(view.to(kCuda).to(kCPU), view, 0, 0);
    REQUIRE_ALLCLOSE(transpose(g, 0, 2).contiguous().to(kCPU), view, 0, 0);
  }
}

TEST_CASE("the caching allocator reuses freed blocks", "[cuda]") {
  RETORT_REQUIRE_GPU();
  { Tensor warm = empty({1000, 1000}, kFloat32, kCuda); }
  const auto before = cuda::memory_stats();
  for (int i = 0; i < 50; ++i) {
    Tensor a = empty({1000, 1000}, kFloat32, kCuda);
    Tensor b = empty({1000, 1000}, kFloat32, kCuda);
  }
  const auto after = cuda::memory_stats();
  REQUIRE(after.device_mallocs <= before.device_mallocs + 1);
  REQUIRE(after.allocated == before.allocated);
  REQUIRE(after.peak_allocated >= 2 * 1000 * 1000 * sizeof(float));
}

TEST_CASE("Module::to moves parameters and buffers and keeps their identity", "[cuda]") {
  RETORT_REQUIRE_GPU();
  nn::TeacherNet net;
  auto before = net.parameters();
  net.to(kCuda);
  auto after = net.parameters();
  REQUIRE(before.size() == after.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    REQUIRE(before[i].impl() == after[i].impl());
    REQUIRE(after[i].device() == kCuda);
  }
  for (auto& [name, b] : net.named_buffers()) {
    INFO(name);
    REQUIRE(b.device() == kCuda);
  }
}

TEST_CASE("StudentNet trains to the same loss curve on cuda as on the cpu", "[cuda]") {
  RETORT_REQUIRE_GPU();
  SECTION("float64: equal to rounding") {
    auto cpu = student_curve(kCPU, kFloat64, 8), gpu = student_curve(kCuda, kFloat64, 8);
    for (std::size_t i = 0; i < cpu.size(); ++i) {
      INFO("step " << i);
      REQUIRE(gpu[i] == Approx(cpu[i]).epsilon(1e-8));
    }
  }
  SECTION("float32: within summation-order differences") {
    auto cpu = student_curve(kCPU, kFloat32, 8), gpu = student_curve(kCuda, kFloat32, 8);
    for (std::size_t i = 0; i < cpu.size(); ++i) {
      INFO("step " << i);
      REQUIRE(gpu[i] == Approx(cpu[i]).epsilon(2e-3));
    }
    REQUIRE(gpu.back() < gpu.front());
  }
}

TEST_CASE("the seed KD step runs on cuda with a frozen teacher", "[cuda][kd]") {
  RETORT_REQUIRE_GPU();
  manual_seed(3);
  auto teacher = std::make_shared<nn::TeacherNet>();
  auto student = std::make_shared<nn::StudentNet>();
  teacher->to(kCuda);
  student->to(kCuda);
  kd::Distiller d(student, teacher);
  d.add_term({"ce", 0.75, [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); }});
  d.add_term({"kd", 0.25, [](const kd::Context& c) { return kd::kd_loss(c.student_logits, c.teacher_logits, {.T = 2.0}); }});
  optim::Adam opt(student->parameters(), {.lr = 1e-3});
  Tensor x = random_tensor({32, 3, 32, 32}, kFloat32, 5).to(kCuda);
  Tensor y = randint(0, 10, {32}).to(kCuda);
  double first = 0, last = 0;
  for (int i = 0; i < 10; ++i) {
    kd::StepResult r = d.train_step(opt, x, y);
    REQUIRE(r.total.device() == kCuda);
    (i == 0 ? first : last) = r.total_value();
  }
  REQUIRE(std::isfinite(last));
  REQUIRE(last < first);
  for (const Tensor& p : teacher->parameters()) REQUIRE(!p.grad().defined());
}

TEST_CASE("SGD with momentum on cuda matches the cpu", "[cuda][optim]") {
  RETORT_REQUIRE_GPU();
  Tensor w0 = random_tensor({33, 17}, kFloat64, 21), target = random_tensor({33, 17}, kFloat64, 22);
  auto run = [&](Device d) {
    Tensor w = w0.to(d);
    w.set_requires_grad(true);
    optim::SGD opt({w}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
    for (int i = 0; i < 5; ++i) {
      opt.zero_grad();
      sum((w - target.to(d)) * (w - target.to(d))).backward();
      opt.step();
    }
    return w.to(kCPU);
  };
  REQUIRE_ALLCLOSE(run(kCuda), run(kCPU), 1e-12, 1e-12);
}
