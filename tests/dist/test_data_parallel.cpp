// DataParallel on 2 ranks (ctest: mpirun -np 2). Equivalence: steps of 2 ranks × batch 64 give the
// parameters of 1 process × batch 128 — float64 to 1e-12, float32 within 1e-6 (the sum order of
// the batch mean differs; 3 SGD steps at lr 0.1 on these nets differ by 1.5e-8 here) — for
// plain training and for a KD step (kd::Distiller, frozen teacher, a feature loss through a
// trained regressor, several buckets). Also: rank 0's weights are broadcast at the start,
// gradient accumulation under NoSync, parameters without a gradient, mismatched models, and a
// teacher-logit cache built in parallel (bit-identical to one process's); SyncBatchNorm against
// BatchNorm on the whole batch.
#include <cmath>

#include "autograd/grad_mode.h"
#include "dist/data_parallel.h"
#include "dist/shard.h"
#include "dist/sync_batchnorm.h"
#include "kd/distiller.h"
#include "kd/response.h"
#include "autograd/ops/elementwise.h"
#include "nn/nn.h"
#include "optim/sgd.h"
#include "support/helpers.h"
#include "tensor/index.h"
#include "tensor/random.h"
#include "tensor/views.h"

using namespace retort;
using dist::ProcessGroup;

namespace {

ProcessGroup& pg() { return ProcessGroup::world(); }

std::shared_ptr<nn::Sequential> mlp(std::int64_t in, std::int64_t hidden, std::int64_t out, DType dt,
                                    std::uint64_t seed) {
  manual_seed(seed);
  const TensorOptions o{dt, kCPU};
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(in, hidden, true, o), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(hidden, out, true, o)});
}

struct Data {
  Tensor x, y;  // [128, 8], [128]
};
Data make_data(DType dt, int step) {
  Generator g(1000 + static_cast<std::uint64_t>(step));
  Data d;
  d.x = randn({128, 8}, dt, &g);
  d.y = randint(0, 4, {128}, &g);
  return d;
}
// Rows [64·rank, 64·rank + 64): this rank's half of the global batch.
Tensor half(const Tensor& t) { return ops::narrow(t, 0, 64 * pg().rank(), 64).contiguous(); }

double max_diff(nn::Module& a, nn::Module& b) {
  const auto pa = a.parameters(), pb = b.parameters();
  REQUIRE(pa.size() == pb.size());
  double m = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    const auto va = pa[i].to_vector<double>(), vb = pb[i].to_vector<double>();
    for (std::size_t k = 0; k < va.size(); ++k) m = std::max(m, std::abs(va[k] - vb[k]));
  }
  return m;
}

// Every rank's parameters equal rank 0's (bit for bit).
void require_replicas_equal(nn::Module& m) {
  for (const Tensor& p : m.parameters()) {
    Tensor mine = p.clone();
    Tensor root = p.clone();
    pg().broadcast(root, 0);
    REQUIRE(mine.to_vector<double>() == root.to_vector<double>());
  }
}

void plain_equivalence(DType dt, double tol, double bucket_mb) {
  auto ref = mlp(8, 32, 4, dt, 1);
  // Rank 1 starts from other weights: DataParallel must replace them by rank 0's.
  auto net = mlp(8, 32, 4, dt, pg().rank() == 0 ? 1 : 77);
  dist::DataParallel ddp(*net, pg(), {.bucket_mb = bucket_mb});
  REQUIRE(max_diff(*ref, *net) == 0);
  optim::SGD ref_opt(ref->parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::SGD opt(net->parameters(), {.lr = 0.1, .momentum = 0.9});
  for (int step = 0; step < 3; ++step) {
    Data d = make_data(dt, step);
    ref_opt.zero_grad();
    F::cross_entropy((*ref)(d.x), d.y).backward();
    ref_opt.step();
    opt.zero_grad();
    F::cross_entropy((*net)(half(d.x)), half(d.y)).backward();
    opt.step();
  }
  INFO("float" << (dt == kFloat64 ? 64 : 32) << " max |Δparam| " << max_diff(*ref, *net));
  REQUIRE(max_diff(*ref, *net) <= tol);
  REQUIRE(max_diff(*ref, *net) > 0);  // different reduction order: this is not a trivial pass
  require_replicas_equal(*net);
  REQUIRE(ddp.stats().rounds == 3);
}

}  // namespace

TEST_CASE("2 ranks × 64 train like 1 × 128 (float64, float32; one and several buckets)", "[dist]") {
  plain_equivalence(kFloat64, 1e-12, 1.0);
  plain_equivalence(kFloat64, 1e-12, 0.0005);  // 524-byte buckets: one per parameter or so
  plain_equivalence(kFloat32, 1e-6, 1.0);
  auto net = mlp(8, 32, 4, kFloat64, 1);
  dist::DataParallel one(*net, pg(), {.bucket_mb = 1.0});
  REQUIRE(one.num_buckets() == 1);
  auto net2 = mlp(8, 32, 4, kFloat64, 1);
  dist::DataParallel many(*net2, pg(), {.bucket_mb = 0.0005});
  REQUIRE(many.num_buckets() == 4);
  // Reverse registration order: the last layer's bias first.
  REQUIRE(many.bucket_sizes() == std::vector<std::int64_t>{4, 128, 32, 256});
}

TEST_CASE("a KD step (Distiller, frozen teacher, feature loss) is the same on 2 × 64 and 1 × 128", "[dist]") {
  for (DType dt : {kFloat64, kFloat32}) {
    const double tol = dt == kFloat64 ? 1e-12 : 1e-6;
    auto build = [&](std::uint64_t student_seed) {
      auto teacher = mlp(8, 24, 4, dt, 5);
      auto student = mlp(8, 16, 4, dt, student_seed);
      manual_seed(9);
      auto reg = std::make_shared<nn::Linear>(16, 24, true, TensorOptions{dt, kCPU});
      auto d = std::make_shared<kd::Distiller>(student, teacher);
      d->add_student_tap("1");
      d->add_teacher_tap("1");
      d->add_term({"ce", 0.5, [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); }});
      d->add_term({"kd", 0.5, [](const kd::Context& c) { return kd::kd_loss(c.student_logits, c.teacher_logits, {.T = 2}); }});
      d->add_term({"feat", 2.0, [reg](const kd::Context& c) {
                     return F::mse_loss((*reg)(c.student("1")), c.teacher("1"));
                   }});
      return std::make_tuple(student, reg, d);
    };
    auto [rs, rreg, rd] = build(3);
    auto [s, reg, d] = build(pg().rank() == 0 ? 3 : 31);
    dist::DataParallel ddp({s.get(), reg.get()}, pg(), {.bucket_mb = 0.001});
    REQUIRE(ddp.num_buckets() > 1);
    auto params = [](auto& a, auto& b) {
      auto p = a->parameters();
      for (auto& q : b->parameters()) p.push_back(q);
      return p;
    };
    optim::SGD ref_opt(params(rs, rreg), {.lr = 0.1});
    optim::SGD opt(params(s, reg), {.lr = 0.1});
    for (int step = 0; step < 3; ++step) {
      Data data = make_data(dt, step);
      rd->train_step(ref_opt, data.x, data.y);
      d->train_step(opt, half(data.x), half(data.y));
    }
    INFO("max |Δ| student " << max_diff(*rs, *s) << ", regressor " << max_diff(*rreg, *reg));
    REQUIRE(max_diff(*rs, *s) <= tol);
    REQUIRE(max_diff(*rreg, *reg) <= tol);
    require_replicas_equal(*s);
    require_replicas_equal(*reg);
  }
}

TEST_CASE("gradient accumulation under NoSync averages the accumulated sum once", "[dist]") {
  auto ref = mlp(8, 16, 4, kFloat64, 2);
  auto net = mlp(8, 16, 4, kFloat64, 2);
  dist::DataParallel ddp(*net, pg());
  Data d = make_data(kFloat64, 0);
  F::cross_entropy((*ref)(d.x), d.y).backward();
  const Tensor x = half(d.x), y = half(d.y);
  {
    dist::DataParallel::NoSync guard(ddp);
    (F::cross_entropy((*net)(ops::narrow(x, 0, 0, 32)), ops::narrow(y, 0, 0, 32)) * 0.5).backward();
  }
  REQUIRE(ddp.stats().rounds == 0);
  (F::cross_entropy((*net)(ops::narrow(x, 0, 32, 32)), ops::narrow(y, 0, 32, 32)) * 0.5).backward();
  REQUIRE(ddp.stats().rounds == 1);
  const auto pr = ref->parameters(), pn = net->parameters();
  for (std::size_t i = 0; i < pr.size(); ++i) {
    const auto a = pr[i].grad().to_vector<double>(), b = pn[i].grad().to_vector<double>();
    for (std::size_t k = 0; k < a.size(); ++k) REQUIRE(std::abs(a[k] - b[k]) <= 1e-14);
  }
}

TEST_CASE("parameters without a gradient: synchronize() completes the round, else a clear error", "[dist]") {
  auto net = mlp(8, 16, 4, kFloat64, 2);
  manual_seed(4);
  auto unused = std::make_shared<nn::Linear>(3, 3, true, TensorOptions{kFloat64, kCPU});
  dist::DataParallel ddp({net.get(), unused.get()}, pg(), {.bucket_mb = 1.0});
  Data d = make_data(kFloat64, 1);
  F::cross_entropy((*net)(half(d.x)), half(d.y)).backward();
  REQUIRE(ddp.stats().rounds == 0);  // the bucket waits for the unused layer
  ddp.synchronize();
  REQUIRE(ddp.stats().rounds == 1);
  REQUIRE(unused->weight.grad().to_vector<double>() == std::vector<double>(9, 0.0));
  require_replicas_equal(*net);  // not the parameters: the gradients must agree
  for (const Tensor& p : net->parameters()) {
    Tensor g = p.grad().clone(), root = p.grad().clone();
    pg().broadcast(root, 0);
    REQUIRE(g.to_vector<double>() == root.to_vector<double>());
  }
  net->zero_grad();
  F::cross_entropy((*net)(half(d.x)), half(d.y)).backward();  // again without synchronize()
  REQUIRE_THROWS_WITH(F::cross_entropy((*net)(half(d.x)), half(d.y)).backward(),
                      Catch::Contains("got a gradient twice in one round") && Catch::Contains("1:weight") &&
                          Catch::Contains("synchronize()"));
  ddp.synchronize();
}

TEST_CASE("DataParallel refuses replicas of different models", "[dist]") {
  auto net = mlp(8, pg().rank() == 0 ? 16 : 17, 4, kFloat64, 2);
  REQUIRE_THROWS_WITH(dist::DataParallel(*net, pg()),
                      Catch::Contains("rank 1 has 4 parameters") && Catch::Contains("same model"));
  pg().barrier();
}

TEST_CASE("a teacher-logit cache built in parallel is bit-identical to one process's", "[dist]") {
  manual_seed(42);
  nn::TeacherNet teacher;
  teacher.eval();
  teacher.requires_grad_(false);
  Generator g(7);
  const std::int64_t n = 300, batch = 128;  // 3 inference batches: 2 on rank 0, 1 on rank 1
  Tensor images = randn({n, 3, 32, 32}, kFloat32, &g);
  NoGradGuard ng;
  auto rows = [&](std::int64_t b, std::int64_t e) { return teacher(ops::narrow(images, 0, b, e - b).contiguous()); };
  Tensor parallel = dist::sharded_map(pg(), n, batch, rows);
  std::vector<Tensor> parts;
  for (std::int64_t b = 0; b < n; b += batch) parts.push_back(rows(b, std::min(n, b + batch)));
  Tensor single = ops::cat(parts, 0);
  REQUIRE(parallel.sizes() == Shape{n, 10});
  REQUIRE(parallel.to_vector<float>() == single.to_vector<float>());
}

TEST_CASE("SyncBatchNorm on 2 × 64 normalises and trains like BatchNorm on 1 × 128", "[dist]") {
  auto build = [](std::uint64_t seed, bool sync) {
    manual_seed(seed);
    const TensorOptions o{kFloat64, kCPU};
    std::shared_ptr<nn::Module> bn;
    if (sync) bn = std::make_shared<dist::SyncBatchNorm>(16);
    else bn = std::make_shared<nn::BatchNorm1d>(16);
    bn->to(kFloat64);
    return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(8, 16, true, o), bn, std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(16, 4, true, o)});
  };
  auto ref = build(1, false), net = build(1, true), local = build(1, false);
  dist::DataParallel ddp(*net, pg()), ddp_local(*local, pg());
  optim::SGD ref_opt(ref->parameters(), {.lr = 0.1}), opt(net->parameters(), {.lr = 0.1}),
      local_opt(local->parameters(), {.lr = 0.1});
  for (int step = 0; step < 3; ++step) {
    Data d = make_data(kFloat64, step);
    d.x = d.x * 3.0 + 5.0;  // a mean far from 0, so local and global statistics differ clearly
    for (auto [m, o, x, y] : {std::tuple{ref.get(), &ref_opt, d.x, d.y}, std::tuple{net.get(), &opt, half(d.x), half(d.y)},
                              std::tuple{local.get(), &local_opt, half(d.x), half(d.y)}}) {
      o->zero_grad();
      F::cross_entropy((*m)(x), y).backward();
      o->step();
    }
  }
  REQUIRE(max_diff(*ref, *net) <= 1e-12);
  auto stats_diff = [](nn::Module& a, nn::Module& b) {
    double m = 0;
    const auto ba = a.buffers(), bb = b.buffers();
    for (std::size_t i = 0; i < ba.size(); ++i) {
      const auto va = ba[i].to_vector<double>(), vb = bb[i].to_vector<double>();
      for (std::size_t k = 0; k < va.size(); ++k) m = std::max(m, std::abs(va[k] - vb[k]));
    }
    return m;
  };
  REQUIRE(stats_diff(*ref, *net) <= 1e-12);                                   // running stats, num_batches_tracked
  REQUIRE(max_diff(*ref, *local) > 1e-6);                                     // plain BN: local statistics
  net->eval();
  ref->eval();
  Data d = make_data(kFloat64, 9);
  NoGradGuard ng;
  const auto a = (*ref)(d.x).to_vector<double>(), b = (*net)(d.x).to_vector<double>();
  for (std::size_t k = 0; k < a.size(); ++k) REQUIRE(std::abs(a[k] - b[k]) <= 1e-12);
}
