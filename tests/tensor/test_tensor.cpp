// Tensor core: factories, metadata, views, copies across layouts and dtypes, errors.
#include "support/helpers.h"
#include "tensor/elementwise.h"
#include "tensor/views.h"

using namespace retort;

TEST_CASE("factories fill and report metadata", "[tensor]") {
  Tensor z = zeros({2, 3});
  REQUIRE(z.sizes() == Shape{2, 3});
  REQUIRE(z.strides() == Shape{3, 1});
  REQUIRE(z.numel() == 6);
  REQUIRE(z.dtype() == kFloat32);
  REQUIRE(z.is_contiguous());
  for (float v : z.to_vector<float>()) REQUIRE(v == 0.0f);
  REQUIRE(full({2}, 2.5, kFloat64).to_vector<double>() == std::vector<double>{2.5, 2.5});
  REQUIRE(arange(4).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3});
  REQUIRE(scalar_tensor(3.0).dim() == 0);
  REQUIRE(scalar_tensor(3.0).item<double>() == 3.0);
  REQUIRE(z.str() == "Tensor[2,3] float32 cpu");
}

TEST_CASE("from_vector checks the element count", "[tensor]") {
  REQUIRE_THROWS_WITH(from_vector(std::vector<double>{1, 2, 3}, {2, 2}), Catch::Contains("from_vector"));
  REQUIRE_THROWS_WITH(zeros({2}).data<double>(), Catch::Contains("float32"));
  REQUIRE_THROWS_WITH(zeros({2}).item<float>(), Catch::Contains("item"));
}

TEST_CASE("from_vector of empty vectors gives empty tensors", "[tensor]") {
  // An empty vector's data() may be null, and memcpy(dst, nullptr, 0) is undefined behaviour
  // (UBSan: "null pointer passed as argument 2, which is declared to never be null").
  Tensor i = from_vector(std::vector<std::int64_t>{}, {0});
  REQUIRE(i.sizes() == Shape{0});
  REQUIRE(i.dtype() == kInt64);
  REQUIRE(i.to_vector<std::int64_t>().empty());
  Tensor f = from_vector(std::vector<float>{}, {2, 0});
  REQUIRE(f.sizes() == Shape{2, 0});
  REQUIRE(from_vector(std::vector<double>{}, {0, 3}, kFloat64).numel() == 0);
  REQUIRE_THROWS_WITH(from_vector(std::vector<std::int64_t>{}, {1}), Catch::Contains("0 values for shape [1]"));
}

TEST_CASE("views share storage and index correctly", "[tensor][views]") {
  Tensor x = from_vector(std::vector<double>{0, 1, 2, 3, 4, 5}, {2, 3}, kFloat64);
  Tensor t = ops::transpose(x, 0, 1);
  REQUIRE(t.sizes() == Shape{3, 2});
  REQUIRE_FALSE(t.is_contiguous());
  REQUIRE(t.to_vector<double>() == std::vector<double>{0, 3, 1, 4, 2, 5});
  REQUIRE(ops::select(x, 1, 2).to_vector<double>() == std::vector<double>{2, 5});
  REQUIRE(ops::narrow(x, 1, 1, 2).to_vector<double>() == std::vector<double>{1, 2, 4, 5});
  REQUIRE(ops::slice(x, 1, 0, 3, 2).to_vector<double>() == std::vector<double>{0, 2, 3, 5});
  REQUIRE(ops::unsqueeze(x, 0).sizes() == Shape{1, 2, 3});
  REQUIRE(ops::squeeze(ops::unsqueeze(x, 2), 2).sizes() == Shape{2, 3});
  REQUIRE(ops::expand(ops::unsqueeze(ops::select(x, 0, 0), 0), {2, 3}).to_vector<double>() ==
          std::vector<double>{0, 1, 2, 0, 1, 2});
  ops::select(x, 0, 1).fill_(7);  // writes through the view
  REQUIRE(x.to_vector<double>() == std::vector<double>{0, 1, 2, 7, 7, 7});
}

TEST_CASE("reshape views when it can and copies when it must", "[tensor][views]") {
  Tensor x = arange(24, kFloat64);
  Tensor r = ops::reshape(x, {2, 3, 4});
  REQUIRE(r.impl()->storage == x.impl()->storage);
  REQUIRE(ops::view(r, {6, -1}).sizes() == Shape{6, 4});
  Tensor p = ops::permute(r, {2, 0, 1});  // [4,2,3], not viewable as [4,6]... but is (2,3 adjacent)
  REQUIRE(ops::view(p, {4, 6}).to_vector<double>() == p.to_vector<double>());
  Tensor t = ops::transpose(r, 1, 2);  // [2,4,3]
  REQUIRE_THROWS_WITH(ops::view(t, {2, 12}), Catch::Contains("use reshape"));
  Tensor c = ops::reshape(t, {2, 12});
  REQUIRE(c.impl()->storage != x.impl()->storage);
  REQUIRE(c.to_vector<double>() == t.to_vector<double>());
  REQUIRE(ops::flatten(r, 1).sizes() == Shape{2, 12});
  REQUIRE_THROWS_WITH(ops::reshape(x, {5, 5}), Catch::Contains("[5,5]"));
}

TEST_CASE("copy_ and to() convert dtype and layout", "[tensor]") {
  Tensor x = from_vector(std::vector<double>{1.5, -2.25, 3}, {3}, kFloat64);
  REQUIRE(x.to(kFloat32).to_vector<float>() == std::vector<float>{1.5f, -2.25f, 3.0f});
  REQUIRE(x.to(kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2, 3});
  Tensor m = zeros({2, 3}, kFloat64);
  ops::transpose(m, 0, 1).copy_(from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2}, kFloat64));
  REQUIRE(m.to_vector<double>() == std::vector<double>{1, 3, 5, 2, 4, 6});
  REQUIRE_THROWS_WITH(m.copy_(zeros({4}, kFloat64)), Catch::Contains("copy_"));
  REQUIRE_THROWS_WITH(x.to(Device("cuda")), Catch::Contains("without CUDA"));
}
