// Raw matrix products: hand-computed values, the oneDNN fast path (ops::, float32) against the
// reference loops (cpu::) on awkward shapes, transposed / strided / broadcast operands, linear and
// its backward, and error messages.
#include "support/helpers.h"
#include "tensor/cpu/linalg.h"
#include "tensor/linalg.h"
#include "tensor/views.h"

using namespace retort;
using testing::random_tensor;

namespace {
Tensor f32(const Shape& s, std::uint64_t seed) { return random_tensor(s, kFloat32, seed); }
}  // namespace

TEST_CASE("matmul of a 2x2 pair matches the hand-computed product", "[tensor][linalg]") {
  for (DType t : {kFloat32, kFloat64}) {
    Tensor a = from_vector({1, 2, 3, 4}, {2, 2}, t);
    Tensor b = from_vector({5, 6, 7, 8}, {2, 2}, t);
    REQUIRE(ops::matmul(a, b).to_vector<double>() == std::vector<double>{19, 22, 43, 50});
    REQUIRE(ops::matmul(a, b).dtype() == t);
  }
}

TEST_CASE("matmul fast path matches the reference on awkward shapes", "[tensor][linalg]") {
  struct Mkn { std::int64_t m, k, n; };
  for (Mkn s : {Mkn{1, 3, 17}, Mkn{5, 1, 4}, Mkn{17, 33, 9}, Mkn{1, 1, 1}, Mkn{128, 64, 10}}) {
    Tensor a = f32({s.m, s.k}, 1), b = f32({s.k, s.n}, 2);
    Tensor y = ops::matmul(a, b);
    REQUIRE(y.sizes() == Shape{s.m, s.n});
    REQUIRE(y.is_contiguous());
    REQUIRE_ALLCLOSE(y, cpu::matmul(a, b), 1e-4, 1e-4);
    REQUIRE_ALLCLOSE(ops::matmul(a, b), y, 0, 0);  // cached primitive, same answer
  }
}

TEST_CASE("matmul reads transposed and strided operands in place", "[tensor][linalg]") {
  Tensor at = f32({7, 5}, 3), bt = f32({17, 7}, 4);
  Tensor a = ops::transpose(at, 0, 1), b = ops::transpose(bt, 0, 1);  // [5,7], [7,17]
  Tensor expect = cpu::matmul(a.contiguous(), b.contiguous());
  REQUIRE_ALLCLOSE(ops::matmul(a, b), expect, 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(ops::matmul(a, b.contiguous()), expect, 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(ops::matmul(a.contiguous(), b), expect, 1e-4, 1e-4);
  // Every other column: no unit stride in either matrix dim.
  Tensor wide = f32({5, 14}, 5);
  Tensor s = ops::slice(wide, 1, 0, 14, 2);  // [5,7] strides [14,2]
  REQUIRE_ALLCLOSE(ops::matmul(s, b), cpu::matmul(s.contiguous(), b.contiguous()), 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(cpu::matmul(s, b), cpu::matmul(s.contiguous(), b.contiguous()), 1e-12, 0);
}

TEST_CASE("matmul broadcasts leading dims", "[tensor][linalg]") {
  Tensor a = f32({2, 1, 5, 3}, 6), b = f32({4, 3, 7}, 7);
  Tensor y = ops::matmul(a, b);
  REQUIRE(y.sizes() == Shape{2, 4, 5, 7});
  REQUIRE_ALLCLOSE(y, cpu::matmul(a, b), 1e-4, 1e-4);
  // One batch entry against the plain 2-D product.
  Tensor y12 = ops::select(ops::select(y, 0, 1), 0, 2);
  Tensor a1 = ops::select(ops::select(a, 0, 1), 0, 0), b2 = ops::select(b, 0, 2);
  REQUIRE_ALLCLOSE(y12, cpu::matmul(a1, b2), 1e-4, 1e-4);
  // Batch of rows times one matrix (folded into a single GEMM), and the mirror case.
  Tensor c = f32({3, 5, 4}, 8), w = f32({4, 6}, 9);
  REQUIRE_ALLCLOSE(ops::matmul(c, w), cpu::matmul(c, w), 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(ops::matmul(w.contiguous(), f32({3, 6, 2}, 10)), cpu::matmul(w, f32({3, 6, 2}, 10)),
                   1e-4, 1e-4);
  // A transposed batched operand, and an expanded (stride-0) batch.
  Tensor ct = ops::transpose(f32({3, 4, 5}, 11), 1, 2);
  Tensor e = ops::expand(f32({1, 4, 6}, 12), {3, 4, 6});
  REQUIRE_ALLCLOSE(ops::matmul(ct, e), cpu::matmul(ct.contiguous(), e.contiguous()), 1e-4, 1e-4);
  // float64 runs the reference and agrees with the float32 fast path.
  REQUIRE_ALLCLOSE(ops::matmul(a.to(kFloat64), b.to(kFloat64)), y, 1e-4, 1e-4);
}

TEST_CASE("bmm multiplies matching batches", "[tensor][linalg]") {
  Tensor a = f32({3, 4, 5}, 13), b = ops::transpose(f32({3, 2, 5}, 14), 1, 2);
  Tensor y = ops::bmm(a, b);
  REQUIRE(y.sizes() == Shape{3, 4, 2});
  REQUIRE_ALLCLOSE(y, cpu::matmul(a, b), 1e-4, 1e-4);
  REQUIRE_THROWS_WITH(ops::bmm(a, f32({2, 5, 2}, 1)), Catch::Contains("bmm") && Catch::Contains("[3,4,5]") &&
                                                           Catch::Contains("[2,5,2]"));
}

TEST_CASE("linear matches x·wᵀ + b", "[tensor][linalg]") {
  Tensor w = f32({7, 13}, 15), b = f32({7}, 16);
  for (Shape xs : {Shape{6, 13}, Shape{1, 13}, Shape{2, 3, 13}, Shape{13}}) {
    Tensor x = f32(xs, 17);
    Shape out = xs;
    out.back() = 7;
    Tensor x2 = ops::reshape(x, {-1, 13});
    Tensor y = ops::linear(x, w, b);
    REQUIRE(y.sizes() == out);
    REQUIRE_ALLCLOSE(ops::reshape(y, {-1, 7}), cpu::linear(x2, w, b), 1e-4, 1e-4);
    Tensor yn = ops::linear(x, w);
    REQUIRE_ALLCLOSE(ops::reshape(yn, {-1, 7}), cpu::matmul(x2, ops::transpose(w, 0, 1)), 1e-4, 1e-4);
  }
  // The teacher's layer size.
  Tensor x = f32({128, 2048}, 18), W = f32({512, 2048}, 19), B = f32({512}, 20);
  REQUIRE_ALLCLOSE(ops::linear(x, W, B), cpu::linear(x, W, B), 1e-3, 1e-4);
  // Reference bias handling on hand-checkable numbers (float64 path).
  Tensor xh = from_vector({1, 2}, {1, 2}, kFloat64), wh = from_vector({1, 0, 0, 1, 1, 1}, {3, 2}, kFloat64);
  Tensor bh = from_vector({10, 20, 30}, {3}, kFloat64);
  REQUIRE(ops::linear(xh, wh, bh).to_vector<double>() == std::vector<double>{11, 22, 33});
}

TEST_CASE("linear_backward gives gy·w, gyᵀ·x and Σ gy", "[tensor][linalg]") {
  Tensor x = f32({2, 3, 13}, 21), w = f32({7, 13}, 22), gy = f32({2, 3, 7}, 23);
  Tensor x2 = ops::reshape(x, {6, 13}), g2 = ops::reshape(gy, {6, 7});
  auto r = ops::linear_backward(gy, x, w, true);
  REQUIRE(r.gx.sizes() == x.sizes());
  REQUIRE_ALLCLOSE(ops::reshape(r.gx, {6, 13}), cpu::matmul(g2, w), 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(r.gw, cpu::matmul(ops::transpose(g2, 0, 1), x2), 1e-4, 1e-4);
  REQUIRE_ALLCLOSE(r.gb, cpu::sum_rows(g2), 1e-5, 1e-5);
  auto only_w = ops::linear_backward(gy, x, Tensor(), false);
  REQUIRE(!only_w.gx.defined());
  REQUIRE(!only_w.gb.defined());
  REQUIRE_ALLCLOSE(only_w.gw, r.gw, 0, 0);
  REQUIRE(cpu::sum_rows(from_vector({1, 2, 3, 4, 5, 6}, {3, 2}, kFloat64)).to_vector<double>() ==
          std::vector<double>{9, 12});
}

TEST_CASE("matrix products reject bad shapes naming both operands", "[tensor][linalg][errors]") {
  Tensor a = f32({2, 3}, 1), b = f32({4, 5}, 2);
  REQUIRE_THROWS_WITH(ops::matmul(a, b), Catch::Contains("matmul") && Catch::Contains("[2,3]") &&
                                             Catch::Contains("[4,5]"));
  REQUIRE_THROWS_WITH(ops::matmul(f32({2, 2, 3}, 1), f32({3, 3, 4}, 2)),
                      Catch::Contains("matmul") && Catch::Contains("[2,2,3]") && Catch::Contains("[3,3,4]"));
  REQUIRE_THROWS_WITH(ops::matmul(f32({3}, 1), f32({3, 2}, 2)), Catch::Contains("at least 2-D"));
  REQUIRE_THROWS_WITH(ops::matmul(a, f32({3, 2}, 2).to(kFloat64)), Catch::Contains("dtype"));
  REQUIRE_THROWS_WITH(ops::linear(f32({4, 6}, 1), f32({5, 7}, 2)),
                      Catch::Contains("linear") && Catch::Contains("[4,6]") && Catch::Contains("[5,7]"));
  REQUIRE_THROWS_WITH(ops::linear(f32({4, 7}, 1), f32({5, 7}, 2), f32({4}, 3)),
                      Catch::Contains("linear") && Catch::Contains("bias [4]"));
}
