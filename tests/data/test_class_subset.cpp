// ClassSubset (data/class_subset.h): which rows it keeps, inputs and targets as the base's, the
// optional label remap, the subset's own indices in batches, errors; class_tasks' split.
#include "data/class_subset.h"

#include <catch2/catch.hpp>

using namespace retort;
using namespace retort::data;

namespace {
// Six samples, input i = [10·i, 10·i + 1], labels 3, 0, 1, 3, 2, 1.
std::shared_ptr<TensorDataset> base() {
  std::vector<float> x;
  for (int i = 0; i < 6; ++i) x.insert(x.end(), {10.0f * i, 10.0f * i + 1});
  return std::make_shared<TensorDataset>(from_vector(x, {6, 2}),
                                         from_vector(std::vector<std::int64_t>{3, 0, 1, 3, 2, 1}, {6}));
}
}  // namespace

TEST_CASE("ClassSubset keeps the samples of its classes", "[data]") {
  ClassSubset s(base(), {3, 1});
  REQUIRE(s.size() == 4);
  CHECK(s.rows() == std::vector<std::int64_t>{0, 2, 3, 5});
  Example e = s.get(1);  // base row 2
  CHECK(e.input.to_vector<float>() == std::vector<float>{20, 21});
  CHECK(e.target.item<std::int64_t>() == 1);
  Batch b = s.get_batch({3, 0, 3});
  CHECK(b.inputs.to_vector<float>() == std::vector<float>{50, 51, 0, 1, 50, 51});
  CHECK(b.targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 3, 1});
  CHECK(b.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 0, 3});  // the subset's own
  Batch all = s.all();
  CHECK(all.targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 1, 3, 1});
  CHECK(all.size() == 4);
}

TEST_CASE("ClassSubset remaps labels to their position in the task", "[data]") {
  ClassSubset s(base(), {3, 1}, Remap::ToTaskIndex);
  CHECK(s.get(0).target.item<std::int64_t>() == 0);  // label 3
  CHECK(s.get(1).target.item<std::int64_t>() == 1);  // label 1
  CHECK(s.all().targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 0, 1});
  CHECK(s.all().inputs.to_vector<float>() == ClassSubset(base(), {3, 1}).all().inputs.to_vector<float>());
}

TEST_CASE("ClassSubset errors", "[data]") {
  CHECK_THROWS_WITH(ClassSubset(base(), {}), Catch::Contains("no classes given"));
  CHECK_THROWS_WITH(ClassSubset(base(), {1, 1}), Catch::Contains("distinct"));
  CHECK_THROWS_WITH(ClassSubset(base(), {7, 8}), Catch::Contains("none of the 6 samples has one of the 2 classes"));
  ClassSubset s(base(), {2});
  CHECK_THROWS_WITH(s.get(1), Catch::Contains("ClassSubset::get: index 1 out of range for a dataset of 1 examples"));
  CHECK_THROWS_WITH(s.get_batch({0, -1}), Catch::Contains("ClassSubset::get_batch: index -1 out of range"));
  auto floats = std::make_shared<TensorDataset>(zeros({2, 1}), zeros({2}));
  CHECK_THROWS_WITH(ClassSubset(floats, {0}), Catch::Contains("expected an int64 class label"));
}

TEST_CASE("class_tasks splits the classes in order", "[data]") {
  CHECK(class_tasks(10, 5) == std::vector<std::vector<std::int64_t>>{{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}});
  CHECK(class_tasks(4, 1) == std::vector<std::vector<std::int64_t>>{{0, 1, 2, 3}});
  CHECK_THROWS_WITH(class_tasks(10, 3), Catch::Contains("10 classes do not split into 3 equal tasks"));
  CHECK_THROWS_WITH(class_tasks(10, 0), Catch::Contains("do not split"));
}
