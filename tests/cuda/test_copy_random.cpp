// [cuda] Data movement and random fills on the device: copy_ between any two dtypes with strided
// and broadcast operands (on the device and from the host into a strided device view), clone,
// to(dtype), fill_ and the factories without a host round trip; bernoulli_ (rate, reproducibility
// per seed, strided targets) and dropout on cuda (mask drawn on the device, gradient = mask).
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/ops/nn_ops.h"
#include "cuda/kernel_check.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/random.h"

using namespace retort;
using retort::testing::awkward_layouts;
using retort::testing::kCuda;
using retort::testing::require_match;
using retort::testing::sample;

TEST_CASE("cuda copy_ converts between every dtype pair on strided and broadcast operands", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType from : {kFloat32, kFloat64, kInt64}) {
    for (DType to : {kFloat32, kFloat64, kInt64}) {
      INFO(dtype_name(from) << " to " << dtype_name(to));
      Tensor src = sample({5, 1, 7}, from, 1);
      // Destination: a transposed window of a bigger tensor; source broadcast along dim 1.
      Tensor dc = zeros({7, 6, 5}, to), dg = zeros({7, 6, 5}, to, kCuda);
      auto window = [](const Tensor& t) { return ops::permute(ops::narrow(t, 1, 1, 4), {2, 1, 0}); };  // [5,4,7]
      window(dc).copy_(src);
      window(dg).copy_(src.to(kCuda));
      require_match(dg, dc);
      Tensor back = zeros({7, 6, 5}, to, kCuda);
      window(back).copy_(src);  // host source into a strided device view
      require_match(back, dc);
      require_match(src.to(kCuda).to(to), src.to(to));
    }
  }
}

TEST_CASE("cuda clone, contiguous and to(kCPU) keep the values of any view", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (const auto& lc : awkward_layouts()) {
    INFO(lc.name);
    Tensor base = sample(lc.base, kFloat64, 2);
    Tensor xc = lc.view(base), xg = lc.view(base.to(kCuda));
    Tensor c = xg.clone();
    REQUIRE(c.device() == kCuda);
    REQUIRE(c.is_contiguous());
    require_match(c, xc.clone(), 0, 0);
    require_match(xg.contiguous(), xc.contiguous(), 0, 0);
    REQUIRE(xg.to(kCPU).to_vector<double>() == xc.to_vector<double>());
  }
}

TEST_CASE("cuda fill_ and the factories fill on the device, also through views", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    INFO(dtype_name(dt));
    for (double v : {0.0, -0.0, 2.5, -7.0}) {
      require_match(full({3, 1025}, v, dt, kCuda), full({3, 1025}, v, dt), 0, 0);
      Tensor c = sample({6, 9}, dt, 3), g = c.to(kCuda);
      ops::slice(ops::transpose(c, 0, 1), 0, 1, 9, 3).fill_(v);
      ops::slice(ops::transpose(g, 0, 1), 0, 1, 9, 3).fill_(v);
      require_match(g, c, 0, 0);
    }
    require_match(zeros({0, 4}, dt, kCuda), zeros({0, 4}, dt), 0, 0);
    require_match(ones({}, dt, kCuda), ones({}, dt), 0, 0);
  }
  // -0.0 keeps its sign bit (no memset shortcut for it).
  REQUIRE(std::signbit(full({2}, -0.0, kFloat64, kCuda).to(kCPU).to_vector<double>()[1]));
}

TEST_CASE("cuda bernoulli_ has the requested rate and repeats for a seed", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    Tensor t = empty({1000, 1000}, dt, kCuda);
    Generator g1(5), g2(5), g3(6);
    bernoulli_(t, 0.3, &g1);
    const std::vector<double> v = t.to(kCPU).to_vector<double>();
    double ones_count = 0, other_values = 0;
    for (double e : v) {
      other_values += e != 0.0 && e != 1.0;
      ones_count += e;
    }
    REQUIRE(other_values == 0);
    // 10^6 draws: the rate is within 5 standard deviations (0.0023) of 0.3.
    REQUIRE(std::abs(ones_count / 1e6 - 0.3) < 0.0023);
    Tensor again = empty({1000, 1000}, dt, kCuda), other = empty({1000, 1000}, dt, kCuda);
    bernoulli_(again, 0.3, &g2);
    bernoulli_(other, 0.3, &g3);
    require_match(again, t.to(kCPU), 0, 0);
    REQUIRE(other.to(kCPU).to_vector<double>() != v);
    // Edge rates and a strided target (the other elements untouched).
    Tensor z = zeros({4, 10}, dt, kCuda);
    bernoulli_(ops::slice(z, 1, 0, 10, 2), 1.0, &g1);
    std::vector<double> zv = z.to(kCPU).to_vector<double>();
    for (std::size_t i = 0; i < zv.size(); ++i) REQUIRE(zv[i] == (i % 2 == 0 ? 1.0 : 0.0));
    bernoulli_(z, 0.0, &g1);
    require_match(z, zeros({4, 10}, dt), 0, 0);
  }
  REQUIRE_THROWS_WITH(bernoulli_(empty({2}, kFloat32, kCuda), 1.5), Catch::Contains("bernoulli"));
}

TEST_CASE("cuda dropout draws its mask on the device and its gradient is the mask", "[cuda]") {
  RETORT_REQUIRE_GPU();
  manual_seed(3);
  const double p = 0.25;
  Tensor x = sample({64, 257}, kFloat32, 4).to(kCuda);
  x.set_requires_grad();
  Tensor y = dropout(x, p, true);
  REQUIRE(y.device() == kCuda);
  y.backward(ones(y.sizes(), kFloat32, kCuda));
  const std::vector<double> xv = x.to(kCPU).to_vector<double>(), yv = y.to(kCPU).to_vector<double>();
  const std::vector<double> gv = x.grad().to(kCPU).to_vector<double>();
  double kept = 0;
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const bool keep = gv[i] != 0.0;
    kept += keep;
    REQUIRE(gv[i] == Approx(keep ? 1.0 / (1.0 - p) : 0.0));
    REQUIRE(yv[i] == Approx(keep ? xv[i] / (1.0 - p) : 0.0).margin(1e-6));
  }
  REQUIRE(std::abs(kept / static_cast<double>(xv.size()) - (1.0 - p)) < 0.02);
  // Reproducible: the same global seed gives the same mask.
  manual_seed(3);
  Tensor y2 = dropout(x, p, true);
  require_match(y2, y.to(kCPU), 0, 0);
}
