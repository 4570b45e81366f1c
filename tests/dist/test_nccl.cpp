// The NCCL paths on CUDA tensors, 2 ranks, one GPU per rank (cuda:<local rank>): all_reduce (sum,
// avg) of every dtype and of empty tensors, broadcast, all_gather of uneven rows, and
// DataParallel equivalence on the GPU (2 × 64 vs 1 × 128). Each test WARNs and passes on a
// machine with fewer GPUs than ranks (NCCL needs a device per rank), so a CPU-only CI builds and
// links the NCCL code (in a CUDA build) without running it.
#include "dist/data_parallel.h"
#include "nn/nn.h"
#include "optim/sgd.h"
#include "support/helpers.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/random.h"
#include "tensor/views.h"

using namespace retort;
using dist::ProcessGroup;

namespace {

ProcessGroup& pg() { return ProcessGroup::world(); }

// Whether every rank has a GPU of its own; the same answer on every rank.
bool gpus_for_all() {
  Tensor ok = from_vector(std::vector<std::int64_t>{cuda::device_count() >= pg().size() ? 1 : 0}, {1});
  pg().all_reduce(ok);
  if (ok.item<std::int64_t>() == pg().size()) return true;
  WARN("fewer CUDA devices than ranks: NCCL paths not run");
  return false;
}

Device my_gpu() { return Device(DeviceType::CUDA, pg().local_rank()); }

}  // namespace

TEST_CASE("NCCL collectives on CUDA tensors", "[dist][cuda]") {
  if (!gpus_for_all()) return;
  const Device dev = my_gpu();
  const int r = pg().rank();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    for (std::int64_t n : {0, 1, 1000, 65537}) {
      std::vector<double> v(static_cast<std::size_t>(n));
      for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = (r + 1) * 2.0 + static_cast<double>(i % 100);
      Tensor t = from_vector(v, {n}, dt).to(dev);
      pg().all_reduce(t);
      const auto got = t.to(kCPU).to_vector<double>();
      for (std::int64_t i = 0; i < n; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == 6.0 + 2.0 * static_cast<double>(i % 100));
    }
  }
  Tensor a = full({3, 3}, r + 1.0, kFloat32, dev);
  pg().all_reduce(a, dist::ReduceOp::Avg);
  REQUIRE(a.to(kCPU).to_vector<double>() == std::vector<double>(9, 1.5));
  Tensor b = full({5}, r == 1 ? 9.0 : 0.0, kFloat64, dev);
  pg().broadcast(b, 1);
  REQUIRE(b.to(kCPU).to_vector<double>() == std::vector<double>(5, 9.0));
  Tensor rows = full({r == 0 ? 1 : 3, 2}, r + 1.0, kFloat32, dev);
  Tensor g = pg().all_gather(rows);
  REQUIRE(g.device() == dev);
  REQUIRE(g.to(kCPU).to_vector<double>() == std::vector<double>{1, 1, 2, 2, 2, 2, 2, 2});
}

TEST_CASE("DataParallel on GPUs trains like one process", "[dist][cuda]") {
  if (!gpus_for_all()) return;
  const Device dev = my_gpu();
  auto build = [&](std::uint64_t seed) {
    manual_seed(seed);
    auto m = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(8, 32), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(32, 4)});
    m->to(kFloat64);
    m->to(dev);
    return m;
  };
  auto ref = build(1), net = build(pg().rank() == 0 ? 1 : 5);
  dist::DataParallel ddp(*net, pg(), {.bucket_mb = 0.001});
  optim::SGD ref_opt(ref->parameters(), {.lr = 0.1}), opt(net->parameters(), {.lr = 0.1});
  for (int step = 0; step < 3; ++step) {
    Generator gen(100 + static_cast<std::uint64_t>(step));
    Tensor x = randn({128, 8}, kFloat64, &gen).to(dev), y = randint(0, 4, {128}, &gen).to(dev);
    ref_opt.zero_grad();
    F::cross_entropy((*ref)(x), y).backward();
    ref_opt.step();
    opt.zero_grad();
    F::cross_entropy((*net)(ops::narrow(x, 0, 64 * pg().rank(), 64).contiguous()),
                     ops::narrow(y, 0, 64 * pg().rank(), 64).contiguous())
        .backward();
    opt.step();
  }
  const auto pr = ref->parameters(), pn = net->parameters();
  for (std::size_t i = 0; i < pr.size(); ++i) {
    const auto a = pr[i].to(kCPU).to_vector<double>(), b = pn[i].to(kCPU).to_vector<double>();
    for (std::size_t k = 0; k < a.size(); ++k) REQUIRE(std::abs(a[k] - b[k]) <= 1e-12);
  }
}
