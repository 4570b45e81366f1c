// Raw joins and indexing: values on small hand-checked cases, strided inputs, repeated indices,
// the gather/scatter_add adjoint identity, and errors that name the op and the shapes.
#include "support/helpers.h"
#include "tensor/index.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {
Tensor f64(const std::vector<double>& v, const Shape& s) { return from_vector(v, s, kFloat64); }
Tensor i64(const std::vector<std::int64_t>& v, const Shape& s) { return from_vector(v, s); }
// The transpose of a packed [c,r] tensor: a [r,c] view that is not contiguous.
Tensor transposed(const Tensor& t) {
  return as_strided(t, {t.size(1), t.size(0)}, {t.stride(1), t.stride(0)}, t.offset());
}
}  // namespace

TEST_CASE("cat along dims 0, 1 and -1", "[index]") {
  Tensor a = f64({1, 2, 3, 4}, {2, 2});
  Tensor b = f64({5, 6}, {1, 2});
  REQUIRE_ALLCLOSE(ops::cat({a, b}, 0), f64({1, 2, 3, 4, 5, 6}, {3, 2}), 0, 0);
  Tensor c = f64({7, 8}, {2, 1});
  REQUIRE_ALLCLOSE(ops::cat({a, c, a}, 1), f64({1, 2, 7, 1, 2, 3, 4, 8, 3, 4}, {2, 5}), 0, 0);
  REQUIRE_ALLCLOSE(ops::cat({a, c}, -1), ops::cat({a, c}, 1), 0, 0);
  // A non-contiguous input is read through its strides: aᵀ = [[1,3],[2,4]].
  REQUIRE_ALLCLOSE(ops::cat({transposed(a), b}, 0), f64({1, 3, 2, 4, 5, 6}, {3, 2}), 0, 0);
  // Empty pieces are allowed.
  REQUIRE_ALLCLOSE(ops::cat({zeros({0, 2}, kFloat64), b}, 0), b, 0, 0);
  REQUIRE(ops::cat({i64({1, 2}, {2}), i64({3}, {1})}).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{1, 2, 3});
}

TEST_CASE("cat errors name both shapes", "[index]") {
  Tensor a = zeros({2, 3}, kFloat64);
  REQUIRE_THROWS_WITH(ops::cat({a, zeros({2, 4}, kFloat64)}, 0),
                      Catch::Contains("cat") && Catch::Contains("[2,3]") && Catch::Contains("[2,4]"));
  REQUIRE_THROWS_WITH(ops::cat({a, zeros({2, 3, 1}, kFloat64)}, 0),
                      Catch::Contains("cat") && Catch::Contains("[2,3,1]"));
  REQUIRE_THROWS_WITH(ops::cat({a, zeros({2, 3}, kFloat32)}, 0),
                      Catch::Contains("cat") && Catch::Contains("float32") && Catch::Contains("float64"));
  REQUIRE_THROWS_WITH(ops::cat({}, 0), Catch::Contains("cat"));
  REQUIRE_THROWS_WITH(ops::cat({a}, 2), Catch::Contains("cat") && Catch::Contains("out of range"));
}

TEST_CASE("stack inserts a new dim", "[index]") {
  Tensor a = f64({1, 2, 3}, {3});
  Tensor b = f64({4, 5, 6}, {3});
  REQUIRE_ALLCLOSE(ops::stack({a, b}, 0), f64({1, 2, 3, 4, 5, 6}, {2, 3}), 0, 0);
  REQUIRE_ALLCLOSE(ops::stack({a, b}, 1), f64({1, 4, 2, 5, 3, 6}, {3, 2}), 0, 0);
  REQUIRE_ALLCLOSE(ops::stack({a, b}, -1), ops::stack({a, b}, 1), 0, 0);
  Tensor m = f64({1, 2, 3, 4}, {2, 2});
  REQUIRE_ALLCLOSE(ops::stack({m, transposed(m), m}, 1),
                   f64({1, 2, 1, 3, 1, 2, 3, 4, 2, 4, 3, 4}, {2, 3, 2}), 0, 0);
  REQUIRE_THROWS_WITH(ops::stack({a, f64({1, 2}, {2})}),
                      Catch::Contains("stack") && Catch::Contains("[3]") && Catch::Contains("[2]"));
}

TEST_CASE("index_select and index_add", "[index]") {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor idx = i64({2, 0, 2}, {3});
  REQUIRE_ALLCLOSE(ops::index_select(x, 0, idx), f64({5, 6, 1, 2, 5, 6}, {3, 2}), 0, 0);
  REQUIRE_ALLCLOSE(ops::index_select(x, 1, i64({1}, {1})), f64({2, 4, 6}, {3, 1}), 0, 0);
  REQUIRE_ALLCLOSE(ops::index_select(transposed(x), 1, idx), f64({5, 1, 5, 6, 2, 6}, {2, 3}), 0, 0);
  // Repeated indices accumulate.
  Tensor acc = ops::index_add(zeros({3, 2}, kFloat64), 0, idx, f64({1, 1, 10, 10, 100, 100}, {3, 2}));
  REQUIRE_ALLCLOSE(acc, f64({10, 10, 0, 0, 101, 101}, {3, 2}), 0, 0);
  REQUIRE_THROWS_WITH(ops::index_select(x, 0, i64({3}, {1})),
                      Catch::Contains("index_select") && Catch::Contains("index 3") &&
                          Catch::Contains("[3,2]"));
  REQUIRE_THROWS_WITH(ops::index_select(x, 0, f64({0}, {1})), Catch::Contains("index_select") &&
                                                                   Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(ops::index_add(x, 0, idx, zeros({2, 2}, kFloat64)),
                      Catch::Contains("index_add") && Catch::Contains("[2,2]"));
}

TEST_CASE("gather and scatter_add", "[index]") {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor idx = i64({2, 2, 0, 1}, {2, 2});
  REQUIRE_ALLCLOSE(ops::gather(x, 1, idx), f64({3, 3, 4, 5}, {2, 2}), 0, 0);
  REQUIRE_ALLCLOSE(ops::gather(x, 0, i64({1, 0, 1}, {1, 3})), f64({4, 2, 6}, {1, 3}), 0, 0);
  Tensor s = ops::scatter_add(zeros({2, 3}, kFloat64), 1, idx, f64({1, 2, 3, 4}, {2, 2}));
  REQUIRE_ALLCLOSE(s, f64({0, 0, 3, 3, 4, 0}, {2, 3}), 0, 0);

  // Adjoint identity ⟨gather(x), v⟩ = ⟨x, scatter_add(0, idx, v)⟩ on a strided 3-d input.
  Tensor base = random_tensor({4, 5, 3}, kFloat64, 1);
  Tensor x3 = as_strided(base, {3, 5, 4}, {1, 3, 15}, 0);
  std::vector<std::int64_t> iv;
  for (int i = 0; i < 3 * 2 * 4; ++i) iv.push_back((i * 7) % 5);
  Tensor id3 = i64(iv, {3, 2, 4});
  Tensor v = random_tensor({3, 2, 4}, kFloat64, 2);
  auto gx = ops::gather(x3, 1, id3).to_vector<double>();
  auto vv = v.to_vector<double>();
  auto xs = x3.to_vector<double>();
  auto sc = ops::scatter_add(zeros({3, 5, 4}, kFloat64), 1, id3, v).to_vector<double>();
  double lhs = 0, rhs = 0;
  for (std::size_t i = 0; i < gx.size(); ++i) lhs += gx[i] * vv[i];
  for (std::size_t i = 0; i < xs.size(); ++i) rhs += xs[i] * sc[i];
  REQUIRE(lhs == Approx(rhs).epsilon(1e-12));

  REQUIRE_THROWS_WITH(ops::gather(x, 1, i64({0, 3}, {2, 1})),
                      Catch::Contains("gather") && Catch::Contains("index 3") &&
                          Catch::Contains("[2,3]") && Catch::Contains("[2,1]"));
  REQUIRE_THROWS_WITH(ops::gather(x, 1, i64({0, 1}, {2})),
                      Catch::Contains("gather") && Catch::Contains("[2,3]") && Catch::Contains("[2]"));
  REQUIRE_THROWS_WITH(ops::scatter_add(x, 1, i64({-1}, {1, 1}), f64({1}, {1, 1})),
                      Catch::Contains("scatter_add") && Catch::Contains("index -1"));
}

TEST_CASE("one_hot", "[index]") {
  Tensor oh = ops::one_hot(i64({2, 0, 1}, {3}), 4);
  REQUIRE(oh.dtype() == kFloat32);
  REQUIRE_ALLCLOSE(oh, from_vector(std::vector<double>{0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0}, {3, 4}), 0, 0);
  REQUIRE(ops::one_hot(i64({1, 1}, {2, 1}), 2, kFloat64).sizes() == Shape{2, 1, 2});
  REQUIRE_THROWS_WITH(ops::one_hot(i64({4}, {1}), 4), Catch::Contains("one_hot") && Catch::Contains("4"));
}
