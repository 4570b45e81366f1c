// Raw elementwise ops: values, broadcasting, scalar forms, masks, in-place forms, layouts.
#include <cmath>

#include "support/helpers.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/elementwise.h"
#include "tensor/views.h"

using namespace retort;

namespace {
Tensor vec(std::vector<double> v, Shape s, DType t = kFloat64) { return from_vector(v, s, t); }
}  // namespace

TEST_CASE("unary ops match std:: math", "[tensor][elementwise]") {
  Tensor x = vec({-2, -0.5, 0.25, 3}, {4});
  auto v = x.to_vector<double>();
  auto check = [&](const Tensor& y, auto f) {
    auto got = y.to_vector<double>();
    for (std::size_t i = 0; i < v.size(); ++i) REQUIRE(got[i] == Approx(f(v[i])).margin(1e-15));
  };
  check(ops::neg(x), [](double a) { return -a; });
  check(ops::abs(x), [](double a) { return std::abs(a); });
  check(ops::exp(x), [](double a) { return std::exp(a); });
  check(ops::relu(x), [](double a) { return a > 0 ? a : 0.0; });
  check(ops::sigmoid(x), [](double a) { return 1 / (1 + std::exp(-a)); });
  check(ops::tanh(x), [](double a) { return std::tanh(a); });
  check(ops::pow(x, 3), [](double a) { return a * a * a; });
  check(ops::clamp(x, -1, 1), [](double a) { return std::clamp(a, -1.0, 1.0); });
  check(ops::sign(x), [](double a) { return a > 0 ? 1.0 : -1.0; });
  Tensor p = vec({0.5, 4}, {2});
  REQUIRE(ops::log(p).to_vector<double>()[1] == Approx(std::log(4.0)));
  REQUIRE(ops::sqrt(p).to_vector<double>()[1] == 2.0);
}

TEST_CASE("binary ops broadcast", "[tensor][elementwise]") {
  Tensor a = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = vec({10, 20, 30}, {3});
  Tensor c = vec({100, 200}, {2, 1});
  REQUIRE(ops::add(a, b).to_vector<double>() == std::vector<double>{11, 22, 33, 14, 25, 36});
  REQUIRE(ops::mul(a, c).to_vector<double>() == std::vector<double>{100, 200, 300, 800, 1000, 1200});
  REQUIRE(ops::sub(b, a).sizes() == Shape{2, 3});
  REQUIRE(ops::div(a, vec({2}, {1})).to_vector<double>()[5] == 3.0);
  REQUIRE(ops::maximum(a, vec({3}, {})).to_vector<double>() == std::vector<double>{3, 3, 3, 4, 5, 6});
  REQUIRE(ops::rsub_scalar(a, 1).to_vector<double>()[0] == 0.0);
  REQUIRE(ops::rdiv_scalar(a, 6).to_vector<double>()[2] == 2.0);
  REQUIRE_THROWS_WITH(ops::add(a, vec({1, 2}, {2})), Catch::Contains("add") && Catch::Contains("[2,3]") &&
                                                         Catch::Contains("[2]"));
  REQUIRE_THROWS_WITH(ops::add(a, a.to(kFloat32)), Catch::Contains("dtypes differ"));
}

TEST_CASE("comparisons give 0/1 masks and where selects", "[tensor][elementwise]") {
  Tensor a = vec({1, 5, 3}, {3});
  Tensor b = vec({2, 5, 1}, {3});
  REQUIRE(ops::lt(a, b).to_vector<double>() == std::vector<double>{1, 0, 0});
  REQUIRE(ops::ge(a, b).to_vector<double>() == std::vector<double>{0, 1, 1});
  REQUIRE(ops::eq(a, b).to_vector<double>() == std::vector<double>{0, 1, 0});
  REQUIRE(ops::where(ops::gt(a, b), a, b).to_vector<double>() == std::vector<double>{2, 5, 3});
  REQUIRE(ops::where(ops::gt_scalar(a, 2), a, vec({0}, {})).to_vector<double>() == std::vector<double>{0, 5, 3});
}

TEST_CASE("in-place forms accumulate with broadcasting", "[tensor][elementwise]") {
  Tensor a = vec({1, 2, 3, 4}, {2, 2});
  ops::add_(a, vec({10, 20}, {2}));
  REQUIRE(a.to_vector<double>() == std::vector<double>{11, 22, 13, 24});
  ops::add_scaled_(a, vec({1, 1, 1, 1}, {2, 2}), -0.5);
  REQUIRE(a.to_vector<double>() == std::vector<double>{10.5, 21.5, 12.5, 23.5});
  ops::mul_scalar_(a, 2);
  REQUIRE(a.to_vector<double>()[0] == 21.0);
  REQUIRE_THROWS_WITH(ops::add_(vec({1}, {1}), a), Catch::Contains("add_"));
  REQUIRE(ops::all_finite(a));
  REQUIRE_FALSE(ops::all_finite(ops::log(vec({-1}, {1}))));
}

TEST_CASE("dense layouts are preserved, strided inputs handled", "[tensor][elementwise]") {
  // A channels-last [N,C,H,W] tensor: relu keeps the layout, values match the packed computation.
  Tensor packed = testing::random_tensor({2, 3, 4, 5}, kFloat32, 7);
  Tensor cl = ops::permute(ops::permute(packed, {0, 2, 3, 1}).clone(), {0, 3, 1, 2});
  REQUIRE_FALSE(cl.is_contiguous());
  REQUIRE(cpu::is_dense(cl));
  Tensor y = ops::relu(cl);
  REQUIRE(y.strides() == cl.strides());
  REQUIRE_ALLCLOSE(y, ops::relu(packed), 0, 0);
  Tensor z = ops::add(cl, cl);
  REQUIRE(z.strides() == cl.strides());
  REQUIRE_ALLCLOSE(z, ops::add(packed, packed), 0, 0);
  // A strided (non-dense) slice.
  Tensor s = ops::slice(packed, 3, 0, 5, 2);
  REQUIRE_FALSE(cpu::is_dense(s));
  REQUIRE_ALLCLOSE(ops::exp(s), ops::exp(s.clone()), 1e-7, 1e-6);
  // Mixed layouts (strided slice × channels-last slice) fall back to the general loop.
  REQUIRE_ALLCLOSE(ops::mul(s, ops::slice(cl, 3, 0, 5, 2)), ops::mul(s.clone(), s.clone()), 0, 0);
}

TEST_CASE("int64 tensors support arithmetic but not float-only ops", "[tensor][elementwise]") {
  Tensor i = from_vector(std::vector<std::int64_t>{1, -2, 3}, {3});
  REQUIRE(ops::mul(i, i).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 4, 9});
  REQUIRE(ops::abs(i).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 2, 3});
  REQUIRE_THROWS_WITH(ops::exp(i), Catch::Contains("exp") && Catch::Contains("int64"));
}
