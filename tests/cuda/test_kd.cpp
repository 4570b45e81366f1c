// [cuda] Every KD loss on CUDA tensors against the same loss on the CPU: the losses are
// compositions of graph ops, so they need no GPU code of their own, and this checks that the
// value and the gradient wrt every student input agree (float64, so the tolerance is tight and a
// wrong kernel cannot hide behind float32 rounding). Modules with parameters (regressors, CRD)
// are copied to the GPU with Module::to and their parameter gradients compared too.
#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "autograd/ops/elementwise.h"
#include "kd/kd.h"
#include "support/cuda_guard.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::kd;
using retort::testing::kCuda;
using retort::testing::random_tensor;

namespace {

using LossFn = std::function<Tensor(const std::vector<Tensor>&)>;

struct Outcome {
  Tensor value;
  std::vector<Tensor> grads;  // per input, on the cpu
};

Outcome run(const LossFn& fn, const std::vector<Tensor>& inputs, Device d) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) {
    Tensor l = detach(x.to(d));
    if (x.requires_grad()) l.set_requires_grad(true);
    leaves.push_back(l);
  }
  Tensor loss = fn(leaves);
  REQUIRE(loss.device() == d);
  loss.backward();
  Outcome o{loss.to(kCPU), {}};
  for (const Tensor& l : leaves) o.grads.push_back(l.requires_grad() ? l.grad().to(kCPU) : Tensor());
  return o;
}

// inputs: float64 cpu tensors; those requiring grad are compared by gradient.
void same_on_cuda(const char* name, const LossFn& fn, const std::vector<Tensor>& inputs,
                  double tol = 1e-9) {
  INFO(name);
  Outcome cpu = run(fn, inputs, kCPU);
  Outcome gpu = run(fn, inputs, kCuda);
  REQUIRE_ALLCLOSE(gpu.value, cpu.value, tol, tol);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!cpu.grads[i].defined()) continue;
    INFO("gradient of input " << i);
    REQUIRE(gpu.grads[i].defined());
    REQUIRE_ALLCLOSE(gpu.grads[i], cpu.grads[i], tol, tol);
  }
}

nn::TensorMap as_map(const nn::NamedTensors& named) {
  return nn::TensorMap(named.begin(), named.end());
}

Tensor leaf(const Shape& s, std::uint64_t seed, bool grad = true) {
  Tensor t = random_tensor(s, kFloat64, seed);
  if (grad) t.set_requires_grad(true);
  return t;
}

}  // namespace

TEST_CASE("response-based KD losses agree on cuda and cpu", "[cuda][kd]") {
  RETORT_REQUIRE_GPU();
  Tensor s = leaf({16, 10}, 1), t = leaf({16, 10}, 2, false);
  Tensor y = from_vector(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5}, {16});
  same_on_cuda("kd T=4", [](auto& v) { return kd_loss(v[0], v[1], {.T = 4.0}); }, {s, t});
  same_on_cuda("kd soft-CE", [](auto& v) {
    return kd_loss(v[0], v[1], {.T = 2.0, .variant = KdVariant::SoftCrossEntropy});
  }, {s, t});
  same_on_cuda("logit mse", [](auto& v) { return logit_mse(v[0], v[1]); }, {s, t});
  same_on_cuda("dkd", [](auto& v) { return dkd_loss(v[0], v[1], v[2]); }, {s, t, y});
  same_on_cuda("dist", [](auto& v) { return dist_loss(v[0], v[1]); }, {s, t});
}

TEST_CASE("relation-based KD losses agree on cuda and cpu", "[cuda][kd]") {
  RETORT_REQUIRE_GPU();
  Tensor fs = leaf({12, 24}, 3), ft = leaf({12, 40}, 4, false), ft_same = leaf({12, 24}, 5, false);
  same_on_cuda("sp", [](auto& v) { return sp_loss(v[0], v[1]); }, {fs, ft});
  same_on_cuda("rkd", [](auto& v) { return rkd_loss(v[0], v[1]); }, {fs, ft}, 1e-8);
  same_on_cuda("pkt", [](auto& v) { return pkt_loss(v[0], v[1]); }, {fs, ft});
  same_on_cuda("cc", [](auto& v) { return cc_loss(v[0], v[1]); }, {fs, ft_same});
  same_on_cuda("cc repdistiller", [](auto& v) {
    return cc_loss(v[0], v[1]);
  }, {fs, ft_same});
}

TEST_CASE("feature-based KD losses agree on cuda and cpu", "[cuda][kd]") {
  RETORT_REQUIRE_GPU();
  Tensor fs = leaf({4, 6, 8, 8}, 6), ft = leaf({4, 10, 4, 4}, 7, false);
  same_on_cuda("at", [](auto& v) { return at_loss(v[0], v[1]); }, {fs, ft});
  same_on_cuda("at batch-sum", [](auto& v) {
    return at_loss(v[0], v[1], {.variant = AtVariant::Paper});
  }, {fs, ft});
  Tensor ft8 = leaf({4, 10, 8, 8}, 8, false);
  same_on_cuda("nst", [](auto& v) { return nst_loss(v[0], v[1]); }, {fs, ft8});
  same_on_cuda("fsp", [](auto& v) {
    return fsp_loss({v[0], v[0] * 2.0}, {v[1], v[1] * 0.5});
  }, {fs, leaf({4, 6, 8, 8}, 9, false)});
  same_on_cuda("cosine", [](auto& v) { return cosine_loss(v[0], v[1], {.pool = 2}); },
               {leaf({4, 12}, 10), leaf({4, 24}, 11, false)});
}

TEST_CASE("KD losses with parameters agree on cuda and cpu, parameter gradients included", "[cuda][kd]") {
  RETORT_REQUIRE_GPU();
  Tensor fs = leaf({4, 6, 8, 8}, 12), ft = leaf({4, 10, 8, 8}, 13, false);
  for (HintKind kind : {HintKind::Conv1x1, HintKind::Conv3x3}) {
    HintRegressor cpu_reg(kind, fs.sizes(), ft.sizes());
    cpu_reg.to(kFloat64);
    HintRegressor gpu_reg(kind, fs.sizes(), ft.sizes());
    gpu_reg.to(kFloat64);
    gpu_reg.load_state_dict(as_map(cpu_reg.state_dict()));
    gpu_reg.to(kCuda);
    same_on_cuda("hint", [&](auto& v) {
      return v[0].device().is_cuda() ? hint_loss(gpu_reg, v[0], v[1]) : hint_loss(cpu_reg, v[0], v[1]);
    }, {fs, ft});
    auto pc = cpu_reg.parameters(), pg = gpu_reg.parameters();
    REQUIRE(pc.size() == pg.size());
    for (std::size_t i = 0; i < pc.size(); ++i) REQUIRE_ALLCLOSE(pg[i].grad().to(kCPU), pc[i].grad(), 1e-9, 1e-9);
  }
  VIDRegressor vc(6, 8, 10), vg(6, 8, 10);
  vc.to(kFloat64);
  vg.to(kFloat64);
  vg.load_state_dict(as_map(vc.state_dict()));
  vg.to(kCuda);
  same_on_cuda("vid", [&](auto& v) {
    return v[0].device().is_cuda() ? vid_loss(vg, v[0], v[1]) : vid_loss(vc, v[0], v[1]);
  }, {fs, ft});
}

TEST_CASE("CRD on cuda matches the cpu for the same memory banks and negatives", "[cuda][kd]") {
  RETORT_REQUIRE_GPU();
  const std::int64_t n_data = 64, k = 8;
  const CrdOptions o{.feat_dim = 16, .nce_k = k, .negatives = CrdNegatives::Uniform, .seed = 3};
  CRD cc(12, 20, n_data, o), cg(12, 20, n_data, o);
  cc.to(kFloat64);
  cg.to(kFloat64);
  cg.load_state_dict(as_map(cc.state_dict()));
  cg.to(kCuda);
  Tensor idx = from_vector(std::vector<std::int64_t>{1, 5, 9, 40}, {4});
  Tensor cidx = randint(0, n_data, {4, k + 1});
  same_on_cuda("crd", [&](auto& v) {
    return v[0].device().is_cuda() ? cg.forward(v[0], v[1], v[2], v[3]) : cc.forward(v[0], v[1], v[2], v[3]);
  }, {leaf({4, 12}, 14), leaf({4, 20}, 15, false), idx, cidx}, 1e-8);
  // The memory banks were updated identically on both devices.
  REQUIRE_ALLCLOSE(cg.contrast->memory_v1.to(kCPU), cc.contrast->memory_v1, 1e-9, 1e-9);
  REQUIRE_ALLCLOSE(cg.contrast->memory_v2.to(kCPU), cc.contrast->memory_v2, 1e-9, 1e-9);
}
