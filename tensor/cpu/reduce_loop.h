// The reduction loops behind tensor/reduce.cpp, over a packed input. An Op describes the
// arithmetic of one output element:
//   using Acc = ...;                          running state
//   Acc init() const;
//   void step(Acc& a, T x, std::int64_t r) const;   r = row-major position among the reduced elements
//   void combine(Acc& a, const Acc& later) const;   merge the state of a later run of r
//   void finish(const Acc& a, std::int64_t n, std::int64_t out_index) const;  writes the result
//   static constexpr bool kLanes;             true when steps commute (sums): lines use 4 lanes
//   Acc line(const T* x, std::int64_t n) const;     optional: the state of a contiguous run, when
//                                                   two passes over it beat n steps (var, logsumexp)
// Every output sees its elements in increasing r (or merged in that order), so first-index ties
// and Welford's update hold, and chunking is by fixed sizes only: results do not depend on the
// thread count.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace retort::cpu {

// [outer, reduced, inner] row-major: the reduced dims form one block.
struct ReduceLayout {
  std::int64_t outer = 1, reduced = 1, inner = 1;
};

// Any other set of dims: the packed input as blocks of merged dims, alternating kept/reduced.
struct ReduceBlocks {
  std::vector<std::int64_t> size;
  std::vector<bool> reduced;
};

inline constexpr std::int64_t kReduceParallelWork = 1 << 18;  // ~50 us of work: below, a parallel region costs more than it saves
inline constexpr std::int64_t kReduceChunk = 1 << 17;         // r-chunk for long single lines
inline constexpr std::int64_t kReduceBlock = 64;              // inner columns reduced together

// The state of x[0..n) at positions r0.. of one output.
template <class T, class Op>
typename Op::Acc reduce_line(const Op& op, const T* x, std::int64_t n, std::int64_t r0) {
  using Acc = typename Op::Acc;
  if constexpr (requires { op.line(x, n); }) return op.line(x, n);
  Acc a = op.init();
  std::int64_t r = 0;
  if constexpr (Op::kLanes) {
    // Independent lanes break the add-latency chain (and let the compiler vectorise).
    Acc b = op.init(), c = op.init(), d = op.init();
    for (; r + 4 <= n; r += 4) {
      op.step(a, x[r], r0 + r);
      op.step(b, x[r + 1], r0 + r + 1);
      op.step(c, x[r + 2], r0 + r + 2);
      op.step(d, x[r + 3], r0 + r + 3);
    }
    op.combine(a, b);
    op.combine(c, d);
    op.combine(a, c);
  }
  for (; r < n; ++r) op.step(a, x[r], r0 + r);
  return a;
}

template <class T, class Op>
void reduce_loop(const T* in, const ReduceLayout& L, const Op& op) {
  using Acc = typename Op::Acc;
  const std::int64_t O = L.outer, R = L.reduced, I = L.inner;
  const bool big = O * R * I >= kReduceParallelWork;
  if (I == 1 && O < 4 && R >= 2 * kReduceChunk) {
    // Few long lines (e.g. the sum of a whole tensor): fixed chunks reduced in parallel, their
    // states combined in order.
    const std::int64_t nc = (R + kReduceChunk - 1) / kReduceChunk;
    for (std::int64_t o = 0; o < O; ++o) {
      std::vector<Acc> part(static_cast<std::size_t>(nc));
      const T* line = in + o * R;
#pragma omp parallel for schedule(static)
      for (std::int64_t c = 0; c < nc; ++c) {
        const std::int64_t r0 = c * kReduceChunk;
        part[static_cast<std::size_t>(c)] = reduce_line(op, line + r0, std::min(kReduceChunk, R - r0), r0);
      }
      for (std::int64_t c = 1; c < nc; ++c) op.combine(part[0], part[static_cast<std::size_t>(c)]);
      op.finish(part[0], R, o);
    }
    return;
  }
  if (I == 1) {
#pragma omp parallel for schedule(static) if (big && O > 1)
    for (std::int64_t o = 0; o < O; ++o) op.finish(reduce_line(op, in + o * R, R, 0), R, o);
    return;
  }
  // Reduced extent strided by I: walk rows of a block of inner columns, so every read is
  // contiguous and the per-column updates vectorise.
  const std::int64_t nb = (I + kReduceBlock - 1) / kReduceBlock;
#pragma omp parallel for schedule(static) if (big && O * nb > 1)
  for (std::int64_t t = 0; t < O * nb; ++t) {
    const std::int64_t o = t / nb, i0 = (t % nb) * kReduceBlock;
    const std::int64_t w = std::min(kReduceBlock, I - i0);
    std::array<Acc, kReduceBlock> acc;
    for (std::int64_t i = 0; i < w; ++i) acc[i] = op.init();
    const T* base = in + o * R * I + i0;
    for (std::int64_t r = 0; r < R; ++r) {
      const T* row = base + r * I;
      for (std::int64_t i = 0; i < w; ++i) op.step(acc[i], row[i], r);
    }
    for (std::int64_t i = 0; i < w; ++i) op.finish(acc[i], R, o * I + i0 + i);
  }
}

// Blocks B0..Bm (merged, alternating, at least one kept): one state per output, filled by reading
// the input once in memory order. Threads split the first kept block q, which owns disjoint runs
// of outputs; blocks before q are a single reduced block P (merged), so the input is
// [P, Kq, S] with S the rest, walked as: for k in my slice, for p, the contiguous S elements.
template <class T, class Op>
void reduce_blocks(const T* in, const ReduceBlocks& B, const Op& op) {
  using Acc = typename Op::Acc;
  const std::size_t nb = B.size.size();
  std::vector<std::int64_t> ostride(nb, 0), rstride(nb, 0);
  std::int64_t n_out = 1, R = 1;
  for (std::size_t b = nb; b-- > 0;) {
    if (B.reduced[b]) rstride[b] = R, R *= B.size[b];
    else ostride[b] = n_out, n_out *= B.size[b];
  }
  const std::size_t q = B.reduced[0] ? 1 : 0;
  const std::int64_t P = q ? B.size[0] : 1, K = B.size[q];
  std::int64_t S = 1;
  for (std::size_t b = q + 1; b < nb; ++b) S *= B.size[b];
  const std::size_t last = nb - 1;
  const std::int64_t L = B.size[last];
  std::vector<Acc> acc(static_cast<std::size_t>(n_out), op.init());
#pragma omp parallel for schedule(static) if (P * K * S >= kReduceParallelWork && K > 1)
  for (std::int64_t k = 0; k < K; ++k) {
    std::vector<std::int64_t> idx(nb, 0);
    for (std::int64_t p = 0; p < P; ++p) {
      const T* x = in + (p * K + k) * S;
      std::int64_t o = k * ostride[q], r = q ? p * rstride[0] : 0;
      std::fill(idx.begin(), idx.end(), 0);
      for (std::int64_t done = 0; done < S; done += L, x += L) {
        if (B.reduced[last]) {
          op.combine(acc[static_cast<std::size_t>(o)], reduce_line(op, x, L, r));
        } else {
          for (std::int64_t l = 0; l < L; ++l) op.step(acc[static_cast<std::size_t>(o + l)], x[l], r);
        }
        // Odometer over the blocks between q and the innermost one.
        for (std::size_t b = last; b-- > q + 1;) {
          o += ostride[b], r += rstride[b];
          if (++idx[b] < B.size[b]) break;
          o -= ostride[b] * B.size[b], r -= rstride[b] * B.size[b];
          idx[b] = 0;
        }
      }
    }
  }
  for (std::int64_t o = 0; o < n_out; ++o) op.finish(acc[static_cast<std::size_t>(o)], R, o);
}

}  // namespace retort::cpu
