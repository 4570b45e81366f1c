// [cuda] Indexing kernels against the cpu reference: index_select / index_add (repeated indices
// accumulate through atomics), gather / scatter_add (index smaller than the input, source larger
// than the index), one_hot, on strided inputs and indices, 0-d and empty indices, every dtype;
// out-of-range indices reported after the kernel with the op, the index and the extent; cat and
// stack; gradients through autograd; the error for operands on different devices.
#include <catch2/catch.hpp>

#include "autograd/ops/index.h"
#include "autograd/ops/shape.h"
#include "cuda/compare.h"
#include "cuda/kernel_check.h"
#include "tensor/index.h"

using namespace retort;
using retort::testing::compare_with_cpu;
using retort::testing::kCuda;
using retort::testing::random_tensor;
using retort::testing::require_match;
using retort::testing::sample;
using retort::testing::Tol;
using Catch::Matchers::Contains;

namespace {

// n indices in [0, size) with repeats: (7k + 3) mod size.
Tensor indices(const Shape& s, std::int64_t size) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(shape_numel(s)));
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = (7 * static_cast<std::int64_t>(k) + 3) % size;
  return from_vector(v, s);
}

// The index variants of a 1-d index over an extent: repeated, strided (every 2nd), 0-d, empty.
std::vector<std::pair<const char*, Tensor>> index_variants(std::int64_t size) {
  return {{"repeated", indices({9}, size)},
          {"strided", ops::slice(indices({10}, size), 0, 1, 10, 2)},
          {"0-d", indices({}, size)},
          {"empty", indices({0}, size)}};
}

}  // namespace

TEST_CASE("cuda index_select and index_add match the cpu on strided operands", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    for (std::int64_t dim : {0, 1, -1}) {
      Tensor base = sample({7, 6, 5}, dt, 1);
      Tensor x = ops::transpose(base, 0, 2), xg = ops::transpose(base.to(kCuda), 0, 2);  // [5, 6, 7]
      const std::int64_t extent = x.size(dim);
      for (const auto& [name, idx] : index_variants(extent)) {
        INFO(name << " index on dim " << dim << " " << dtype_name(dt));
        Tensor ig = idx.to(kCuda);
        Tensor want = ops::index_select(x, dim, idx), got = ops::index_select(xg, dim, ig);
        require_match(got, want);
        Tensor src = sample(want.sizes(), dt, 2);
        require_match(ops::index_add(xg, dim, ig, src.to(kCuda)), ops::index_add(x, dim, idx, src));
        // In place into the strided view: base changes on both sides.
        Tensor bc = base.clone(), bg = base.to(kCuda);
        ops::index_add_(ops::transpose(bc, 0, 2), dim, idx, src);
        ops::index_add_(ops::transpose(bg, 0, 2), dim, ig, src.to(kCuda));
        require_match(bg, bc);
      }
    }
  }
}

TEST_CASE("cuda gather and scatter_add match the cpu with smaller indices and larger sources", "[cuda]") {
  RETORT_REQUIRE_GPU();
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    for (std::int64_t dim : {0, 1, 2}) {
      INFO("dim " << dim << " " << dtype_name(dt));
      Tensor x = sample({4, 6, 5}, dt, 3), xg = x.to(kCuda);
      Shape is = {3, 4, 2};
      is[dim] = 8;  // more than the extent along dim: repeats
      Tensor idx = indices(is, x.size(dim));
      Tensor idx_t = ops::transpose(ops::transpose(idx, 0, 2).contiguous(), 0, 2);  // same values, strided
      for (const Tensor& i : {idx, idx_t}) {
        Tensor ig = i.to(kCuda);
        require_match(ops::gather(xg, dim, ig), ops::gather(x, dim, i));
        Shape ss = is;
        for (auto& e : ss) e += 1;
        Tensor src = sample(ss, dt, 4);
        require_match(ops::scatter_add(xg, dim, ig, src.to(kCuda)), ops::scatter_add(x, dim, i, src));
      }
    }
  }
}

TEST_CASE("cuda one_hot matches the cpu for strided labels in every dtype", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor labels = ops::transpose(indices({4, 3}, 7), 0, 1);
  for (DType dt : {kFloat32, kFloat64, kInt64}) {
    require_match(ops::one_hot(labels.to(kCuda), 7, dt), ops::one_hot(labels, 7, dt));
  }
  require_match(ops::one_hot(indices({0}, 3).to(kCuda), 3, kFloat32), ops::one_hot(indices({0}, 3), 3, kFloat32));
  require_match(ops::one_hot(indices({}, 3).to(kCuda), 3, kFloat32), ops::one_hot(indices({}, 3), 3, kFloat32));
}

TEST_CASE("cuda index ops report an out-of-range index with the op, the index and the extent", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor x = sample({4, 5}, kFloat32, 5).to(kCuda);
  Tensor bad = from_vector(std::vector<std::int64_t>{0, 2, 9, 1}, {4}).to(kCuda);
  Tensor neg = from_vector(std::vector<std::int64_t>{-1}, {1}).to(kCuda);
  REQUIRE_THROWS_WITH(ops::index_select(x, 1, bad), Contains("index_select") && Contains("index 9") && Contains("size 5"));
  REQUIRE_THROWS_WITH(ops::index_select(x, 0, neg), Contains("index_select") && Contains("index -1") && Contains("size 4"));
  REQUIRE_THROWS_WITH(ops::index_add_(x, 1, bad, zeros({4, 4}, kFloat32, kCuda)),
                      Contains("index_add") && Contains("index 9") && Contains("size 5"));
  Tensor gi = from_vector(std::vector<std::int64_t>{0, 1, 4, 1, 0, 0}, {2, 3}).to(kCuda);
  REQUIRE_THROWS_WITH(ops::gather(x, 0, gi), Contains("gather") && Contains("index 4") && Contains("size 4"));
  REQUIRE_THROWS_WITH(ops::scatter_add_(x, 0, gi, zeros({2, 3}, kFloat32, kCuda)),
                      Contains("scatter_add") && Contains("index 4") && Contains("size 4"));
  REQUIRE_THROWS_WITH(ops::one_hot(bad, 5), Contains("one_hot") && Contains("label 9") && Contains("[0, 5)"));
  // The failed calls leave the stream usable.
  Tensor ok = from_vector(std::vector<std::int64_t>{3, 0}, {2});
  require_match(ops::index_select(x, 0, ok.to(kCuda)), ops::index_select(x.to(kCPU), 0, ok));
}

TEST_CASE("cuda cat and stack of views match the cpu", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor a = sample({3, 4}, kFloat32, 6), b = sample({4, 5}, kFloat32, 7);
  Tensor ag = a.to(kCuda), bg = b.to(kCuda);
  require_match(ops::cat({ag, ops::transpose(ops::narrow(bg, 1, 0, 3), 0, 1)}, 1),
                ops::cat({a, ops::transpose(ops::narrow(b, 1, 0, 3), 0, 1)}, 1));
  auto every_2nd = [](const Tensor& t) { return ops::transpose(ops::slice(t, 1, 0, 5, 2), 0, 1); };  // [3,4]
  require_match(ops::stack({ag, every_2nd(bg)}, 2), ops::stack({a, every_2nd(b)}, 2));
}

TEST_CASE("cuda index gradients match the cpu through autograd", "[cuda]") {
  RETORT_REQUIRE_GPU();
  const Tol f32{1e-5, 1e-5};
  using V = std::vector<Tensor>;
  Tensor sel = indices({11}, 6), gat = indices({5, 9}, 6);
  for (DType dt : {kFloat32, kFloat64}) {
    INFO(dtype_name(dt));
    Tensor x = random_tensor({5, 6}, kFloat64, 31);
    compare_with_cpu([&](const V& v) { return index_select(v[0], 1, sel.to(v[0].device())); }, {x}, dt, f32, f32);
    compare_with_cpu([&](const V& v) { return gather(v[0], 1, gat.to(v[0].device())); }, {x}, dt, f32, f32);
    compare_with_cpu([&](const V& v) { return index_select(transpose(v[0], 0, 1), 0, sel.to(v[0].device())); }, {x},
                     dt, f32, f32);
  }
}

TEST_CASE("cuda index ops reject an index or source on another device, naming both", "[cuda]") {
  RETORT_REQUIRE_GPU();
  Tensor x = sample({4, 5}, kFloat32, 8).to(kCuda);
  Tensor idx = indices({3}, 4);
  auto names_both = [](const char* op, const char* shape) {
    return Contains(op) && Contains("[4,5]") && Contains(shape) && Contains("cpu") && Contains("cuda:0");
  };
  REQUIRE_THROWS_WITH(ops::index_select(x, 0, idx), names_both("index_select", "[3]"));
  REQUIRE_THROWS_WITH(ops::index_add_(x, 0, idx.to(kCuda), zeros({3, 5})), names_both("index_add", "[3,5]"));
  REQUIRE_THROWS_WITH(ops::gather(x, 0, indices({2, 5}, 4)), names_both("gather", "[2,5]"));
}
