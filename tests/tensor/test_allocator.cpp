// The caching CPU allocator: alignment, reuse of released blocks of the same size, and emptying.
#include <cstdint>

#include "support/helpers.h"
#include "tensor/cpu/allocator.h"

using namespace retort;

TEST_CASE("large blocks are reused after release, small ones are not cached", "[tensor][allocator]") {
  cpu::empty_cache();
  void* a = cpu::allocate(1 << 20);
  REQUIRE(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  cpu::release(a, 1 << 20);
  REQUIRE(cpu::cached_bytes() == (1 << 20));
  void* b = cpu::allocate(1 << 20);
  REQUIRE(b == a);
  REQUIRE(cpu::cached_bytes() == 0);
  cpu::release(b, 1 << 20);
  void* s = cpu::allocate(100);
  REQUIRE(reinterpret_cast<std::uintptr_t>(s) % 64 == 0);
  cpu::release(s, 100);
  REQUIRE(cpu::cached_bytes() == (1 << 20));
  cpu::empty_cache();
  REQUIRE(cpu::cached_bytes() == 0);
}

TEST_CASE("tensors released in a loop reuse their storage", "[tensor][allocator]") {
  cpu::empty_cache();
  const void* first = nullptr;
  for (int i = 0; i < 3; ++i) {
    Tensor t = zeros({512, 512});
    if (!first) first = t.raw_data();
    else REQUIRE(t.raw_data() == first);
    REQUIRE(t.to_vector<float>()[1000] == 0.0f);
  }
}
