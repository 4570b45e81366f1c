// Storage holding its contents in another layout (AltLayout): the plain bytes are written once, on
// the first data() call, by exactly one of several concurrent readers; the other layout is then
// dropped; a failed conversion leaves nothing half-written and is retried.
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/helpers.h"

using namespace retort;

namespace {

struct Iota final : AltLayout {
  std::size_t n;
  mutable std::atomic<int> calls{0};
  mutable std::atomic<int> fail_first{0};
  explicit Iota(std::size_t count) : n(count) {}
  void materialize(void* plain) const override {
    calls++;
    if (fail_first.exchange(0) > 0) throw std::runtime_error("Iota: conversion failed");
    auto* p = static_cast<float*>(plain);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(i);
  }
};

Tensor over(std::shared_ptr<const AltLayout> alt, std::int64_t n) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(n) * sizeof(float), alt);
  impl->sizes = {n};
  impl->strides = {1};
  return Tensor(impl);
}

}  // namespace

TEST_CASE("a storage writes its plain bytes once, on first access, and drops the other layout",
          "[tensor][storage]") {
  auto alt = std::make_shared<Iota>(1000);
  Tensor t = over(alt, 1000);
  REQUIRE(t.impl()->storage->alt() == alt);
  REQUIRE(alt->calls == 0);
  std::vector<std::thread> readers;
  std::vector<float> seen(8);
  for (int i = 0; i < 8; ++i)
    readers.emplace_back([&, i] { seen[i] = t.data<float>()[999]; });
  for (auto& r : readers) r.join();
  REQUIRE(alt->calls == 1);
  for (float v : seen) REQUIRE(v == 999.0f);
  REQUIRE(t.impl()->storage->alt() == nullptr);
  std::vector<float> v = t.to_vector<float>();
  REQUIRE(v[0] == 0.0f);
  REQUIRE(v[500] == 500.0f);
  REQUIRE(alt->calls == 1);
}

TEST_CASE("a failed conversion to the plain layout is reported and retried", "[tensor][storage]") {
  auto alt = std::make_shared<Iota>(16);
  alt->fail_first = 1;
  Tensor t = over(alt, 16);
  REQUIRE_THROWS_WITH(t.data<float>(), Catch::Contains("conversion failed"));
  REQUIRE(t.impl()->storage->alt() == alt);
  REQUIRE(t.to_vector<float>()[15] == 15.0f);
  REQUIRE(alt->calls == 2);
  REQUIRE(t.impl()->storage->alt() == nullptr);
}
