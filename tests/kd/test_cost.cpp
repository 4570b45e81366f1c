// Cost per loss (kd/cost.h): the analytic formulas against hand numbers, the allocation counter,
// measured peak bytes of an RKD term growing about cubically with the batch, and the table.
#include <catch2/catch.hpp>

#include <sstream>

#include "autograd/ops/elementwise.h"
#include "kd/cost.h"
#include "kd/crd.h"
#include "kd/distiller.h"
#include "kd/relation.h"
#include "kd/response.h"
#include "nn/basic.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "support/helpers.h"
#include "tensor/cpu/allocator.h"
#include "tensor/random.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {

std::shared_ptr<nn::Sequential> mlp(std::int64_t out) {
  auto m = nn::make_sequential(std::make_shared<nn::Linear>(4, 16), std::make_shared<nn::ReLU>(),
                               std::make_shared<nn::Linear>(16, out));
  m->to(kFloat64);
  return m;
}

Tensor labels(std::int64_t n) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(i % 8);
  return from_vector(v, {n});
}

// Peak bytes of an RKD term over logits [B, 8] (student) and [B, 8] (teacher).
std::size_t rkd_peak(std::int64_t B) {
  kd::Distiller d(mlp(8), mlp(8));
  d.add_term({"rkd", 1.0, [](const kd::Context& c) {
                return kd::rkd_loss(c.student_logits, c.teacher_logits);
              }});
  auto rows = d.term_costs(random_tensor({B, 4}, kFloat64, 1), labels(B), {}, 2);
  return rows.at(0).peak_bytes;
}

}  // namespace

TEST_CASE("cost: analytic formulas against hand numbers", "[kd]") {
  auto k = kd::cost::kd(64, 100);  // 20·6400 FLOPs, 10·6400·4 bytes
  REQUIRE(k.flops == 128000.0);
  REQUIRE(k.bytes == 256000.0);
  REQUIRE(k.state_bytes == 0.0);
  auto sp = kd::cost::sp(16, 32, 64);  // 2·256·96 + 11·256; 8·256·4
  REQUIRE(sp.flops == 51968.0);
  REQUIRE(sp.bytes == 8192.0);
  auto a = kd::cost::rkd_angle(8, 4, 4, 8);  // 2·512·8 + 4·64·8 + 7·512; (3·64·8 + 6·512)·8
  REQUIRE(a.flops == 13824.0);
  REQUIRE(a.bytes == 36864.0);
  REQUIRE(a.dominant == "B×B×B angle tensors");
  auto r = kd::cost::rkd(8, 4, 4, 8);  // + 2·64·8 + 23·64 FLOPs, + 20·64·8 bytes
  REQUIRE(r.flops == 16320.0);
  REQUIRE(r.bytes == 47104.0);
  auto c = kd::cost::crd(4, 8, 16, 32, 100, 1000);
  REQUIRE(c.flops == 65936.0);         // 2·4·32·24 + 4·404·32 + 20·404
  REQUIRE(c.bytes == 119584.0);        // (2·404·32 + 10·404)·4
  REQUIRE(c.state_bytes == 256000.0);  // 2·1000·32·4
  REQUIRE(kd::cost::pkt(4, 2, 3).flops == 2 * 16 * 5 + 14 * 16);
  REQUIRE(kd::cost::cc(4, 2, 3, 2).bytes == 20 * 16 * 4);
  // Angle work grows as B³, distance work as B².
  REQUIRE(kd::cost::rkd_angle(64, 8, 8).bytes / kd::cost::rkd_angle(16, 8, 8).bytes > 40);
}

TEST_CASE("cost: the allocation counter tracks live and peak tensor bytes", "[kd]") {
  const std::size_t live = cpu::allocated_bytes();
  cpu::reset_peak_allocated_bytes();
  {
    Tensor a = zeros({1000}, kFloat64);
    REQUIRE(cpu::allocated_bytes() >= live + 8000);
    Tensor b = zeros({1 << 16}, kFloat64);  // 512 KiB: a cached size class
    REQUIRE(cpu::peak_allocated_bytes() >= live + 8000 + (8u << 16));
  }
  REQUIRE(cpu::allocated_bytes() == live);
  REQUIRE(cpu::peak_allocated_bytes() >= live + (8u << 16));
  cpu::reset_peak_allocated_bytes();
  REQUIRE(cpu::peak_allocated_bytes() == live);
}

TEST_CASE("cost: measured peak bytes of RKD grow about cubically with the batch", "[kd]") {
  const std::size_t p16 = rkd_peak(16), p64 = rkd_peak(64);
  const double ratio = static_cast<double>(p64) / static_cast<double>(p16);
  INFO("peak bytes B=16: " << p16 << ", B=64: " << p64 << ", ratio " << ratio);
  REQUIRE(p16 > 0);
  REQUIRE(ratio > 32.0);  // (64/16)³ = 64; quadratic growth would give 16
  REQUIRE(ratio < 128.0);
  // The forward-only analytic estimate is of the same order as the measured forward + backward.
  const double analytic = kd::cost::rkd(64, 8, 8, 8).bytes;
  REQUIRE(static_cast<double>(p64) > 0.5 * analytic);
  REQUIRE(static_cast<double>(p64) < 4.0 * analytic);
}

TEST_CASE("cost: Distiller::term_costs rows and the printed table", "[kd]") {
  manual_seed(3);
  auto s = mlp(8), t = mlp(8);
  kd::Distiller d(s, t);
  d.add_term({"ce", 1.0,
              [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); }});
  d.add_term({"kd",
              0.5,
              [](const kd::Context& c) { return kd::kd_loss(c.student_logits, c.teacher_logits); },
              {},
              [](const kd::Context& c) {
                return kd::cost::kd(c.student_logits.size(0), c.student_logits.size(1), 8);
              }});
  auto crd = std::make_shared<kd::CRD>(
      8, 8, 40, kd::CrdOptions{.feat_dim = 16, .nce_k = 10, .negatives = kd::CrdNegatives::Uniform, .seed = 1});
  crd->to(kFloat64);
  Tensor idx = from_vector(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}, {6});
  d.add_term(
      {"crd",
       0.8,
       [&](const kd::Context& c) { return crd->forward(c.student_logits, c.teacher_logits, idx); },
       {},
       [](const kd::Context& c) { return kd::cost::crd(c.targets.size(0), 8, 8, 16, 10, 40, 8); }});
  Tensor x = random_tensor({6, 4}, kFloat64, 2), y = labels(6);
  auto rows = d.term_costs(x, y, {}, 3);
  REQUIRE(d.step_count() == 0);
  REQUIRE(rows.size() == 3);
  REQUIRE(rows[0].name == "ce");
  REQUIRE_FALSE(rows[0].has_estimate);
  REQUIRE(rows[1].has_estimate);
  REQUIRE(rows[1].estimate.flops == 20.0 * 6 * 8);
  REQUIRE(rows[1].weight == 0.5);
  REQUIRE(rows[2].estimate.state_bytes == 2.0 * 40 * 16 * 8);
  for (auto& r : rows) {
    INFO(r.name);
    REQUIRE(r.forward_ms >= 0.0);
    REQUIRE(r.backward_ms >= 0.0);
    REQUIRE(r.peak_bytes > 0);
  }
  auto step = d.step(x, y);
  REQUIRE(rows[0].value == Approx(step.values[0]).epsilon(1e-12));
  REQUIRE(rows[1].value == Approx(step.values[1]).epsilon(1e-12));
  for (auto& p : s->parameters()) REQUIRE_FALSE(p.grad().defined());  // the student is not reached

  std::ostringstream os;
  kd::print_term_costs(os, rows);
  const std::string table = os.str();
  INFO(table);
  for (const char* col :
       {"term", "lambda", "MFLOP", "state MiB", "fwd ms", "bwd ms", "peak MiB", "total"})
    REQUIRE(table.find(col) != std::string::npos);
  std::istringstream lines(table);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (line.rfind("ce ", 0) == 0) REQUIRE(line.find(" - ") != std::string::npos);
    if (line.rfind("kd ", 0) == 0) REQUIRE(line.find("0.001") != std::string::npos);  // 960 FLOPs
  }
  REQUIRE(n == 5);
}
