// The reference kernels' threaded walks: cpu::for_each_row against the serial for_each_offset
// (same element pairs, every element once), non_overlapping, in-place adds into windows of a larger
// buffer (how the autograd engine accumulates view gradients), fills of dense and windowed
// tensors, and zeros handed a dirty cached block. Sizes are above cpu::kParallelGrain where the
// threaded path is the point.
#include <map>
#include <vector>

#include "support/helpers.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/cpu/iter.h"
#include "tensor/elementwise.h"
#include "tensor/views.h"

using namespace retort;

namespace {

// For operand 0 offsets, the operand-1 offset the walk pairs them with; each visited once.
template <class Walk>
std::map<std::int64_t, std::int64_t> pairs(Walk walk) {
  std::map<std::int64_t, std::int64_t> out;
  std::int64_t repeats = 0;
  walk([&](std::int64_t o0, std::int64_t o1) {  // maybe on OpenMP threads: no Catch calls here
#pragma omp critical
    repeats += out.emplace(o0, o1).second ? 0 : 1;
  });
  REQUIRE(repeats == 0);
  return out;
}

void check_rows(const Tensor& a, const Tensor& b, std::int64_t grain) {
  INFO("a " << shape_str(a.sizes()) << " strides " << shape_str(a.strides()) << ", b strides "
            << shape_str(b.strides()) << ", grain " << grain);
  const Shape sb = cpu::broadcast_strides(b.sizes(), b.strides(), a.sizes());
  auto serial = pairs([&](auto visit) {
    cpu::for_each_offset<2>(a.sizes(), {&a.strides(), &sb},
                            [&](const auto& o) { visit(o[0], o[1]); });
  });
  auto rows = pairs([&](auto visit) {
    cpu::for_each_row<2>(a.sizes(), {&a.strides(), &sb}, grain,
                         [&](const auto& o, std::int64_t len, const auto& s) {
                           for (std::int64_t i = 0; i < len; ++i)
                             visit(o[0] + i * s[0], o[1] + i * s[1]);
                         });
  });
  REQUIRE(static_cast<std::int64_t>(serial.size()) == a.numel());
  REQUIRE(rows == serial);
}

}  // namespace

TEST_CASE("for_each_row visits what for_each_offset visits, threaded or not", "[tensor][iter]") {
  Tensor buf = zeros({3, 8, 5, 4});
  Tensor g = zeros({3, 4, 5, 4});
  for (std::int64_t grain : {std::int64_t{0}, std::int64_t{1} << 20}) {
    check_rows(buf, zeros({3, 8, 5, 4}), grain);                          // one merged row
    check_rows(ops::narrow(buf, 1, 2, 4), g, grain);                      // a channel window
    check_rows(ops::permute(buf, {0, 2, 3, 1}), zeros({3, 5, 4, 8}), grain);  // permuted
    check_rows(ops::slice(buf, 3, 0, 4, 2), zeros({3, 8, 5, 2}), grain);  // strided
    check_rows(ops::narrow(buf, 1, 2, 4), zeros({4, 1, 1}), grain);       // broadcast b
    check_rows(zeros({1, 1}), zeros({1}), grain);                         // one element
  }
}

TEST_CASE("non_overlapping tells views that repeat elements", "[tensor][iter]") {
  Tensor t = zeros({4, 6, 5});
  CHECK(cpu::non_overlapping(t));
  CHECK(cpu::non_overlapping(ops::narrow(t, 1, 1, 3)));
  CHECK(cpu::non_overlapping(ops::permute(t, {2, 0, 1})));
  CHECK(cpu::non_overlapping(ops::slice(t, 2, 0, 5, 2)));
  CHECK_FALSE(cpu::non_overlapping(ops::expand(zeros({4, 1}), {4, 3})));
  CHECK_FALSE(cpu::non_overlapping(as_strided(t, {3, 3}, {1, 1}, 0)));
  CHECK(cpu::non_overlapping(as_strided(t, {3, 3}, {1, 3}, 0)));
}

TEST_CASE("add_ into a window of a larger buffer, split across threads", "[tensor][iter]") {
  // The window holds 8·32·16·16 = 65536 elements, above the grain.
  Tensor buf = testing::random_tensor({8, 64, 16, 16}, kFloat32, 3);
  const Tensor before = buf.clone();
  Tensor g = testing::random_tensor({8, 32, 16, 16}, kFloat32, 4);
  Tensor bias = testing::random_tensor({32, 1, 1}, kFloat32, 5);
  Tensor win = ops::narrow(buf, 1, 16, 32);
  REQUIRE_FALSE(cpu::is_dense(win));
  ops::add_(win, g);
  ops::add_(win, bias);
  REQUIRE_ALLCLOSE(win, ops::add(ops::add(ops::narrow(before, 1, 16, 32), g), bias), 0, 0);
  REQUIRE_ALLCLOSE(ops::narrow(buf, 1, 0, 16), ops::narrow(before, 1, 0, 16), 0, 0);
  REQUIRE_ALLCLOSE(ops::narrow(buf, 1, 48, 16), ops::narrow(before, 1, 48, 16), 0, 0);
}

TEST_CASE("fill_ on dense and windowed tensors; zeros clears a reused block", "[tensor][iter]") {
  Tensor packed = testing::random_tensor({4, 16, 32, 32}, kFloat32, 6);  // 65536 elements
  Tensor cl = ops::permute(ops::permute(packed, {0, 2, 3, 1}).clone(), {0, 3, 1, 2});
  REQUIRE(cpu::is_dense(cl));
  cl.fill_(2.5);
  REQUIRE_ALLCLOSE(cl, full({4, 16, 32, 32}, 2.5), 0, 0);
  Tensor win = ops::narrow(packed, 1, 4, 8);
  const Tensor before = packed.clone();
  win.fill_(-1.0);
  REQUIRE_ALLCLOSE(win, full({4, 8, 32, 32}, -1.0), 0, 0);
  REQUIRE_ALLCLOSE(ops::narrow(packed, 1, 0, 4), ops::narrow(before, 1, 0, 4), 0, 0);
  REQUIRE_ALLCLOSE(ops::narrow(packed, 1, 12, 4), ops::narrow(before, 1, 12, 4), 0, 0);
  // An odd size: the last memset chunk is partial. The first tensor's block returns to the
  // allocator's cache dirty and zeros gets it back.
  const Shape odd{100003};
  { full(odd, 7.0).fill_(7.0); }
  REQUIRE(ops::all_finite(zeros(odd)));
  REQUIRE_ALLCLOSE(zeros(odd), full(odd, 0.0), 0, 0);
}
