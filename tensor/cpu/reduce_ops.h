// Reference reductions: the planning step that brings any (strided input, dims, keepdim) to a
// packed input for cpu::reduce_loop ([outer, reduced, inner]) or cpu::reduce_blocks (alternating
// kept/reduced blocks), and the per-output arithmetic (the Ops).
//   sum/mean  Σx (÷n)                 double accumulator for floating inputs
//   var       Σ(x − x̄)² / max(0, n − correction): two passes per contiguous run, Welford's update
//             otherwise, runs merged with Chan's formula
//   logsumexp m + log Σ exp(x − m), m the maximum (two passes per contiguous run, else online
//             rescaling as the running maximum grows)
//   norm      (Σ|x|^p)^(1/p)
//   max/min   first extreme value and its position; NaN wins (propagates)
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "tensor/cpu/reduce_loop.h"
#include "tensor/tensor.h"

namespace retort::cpu {

struct ReducePlan {
  Tensor packed;        // the input, packed
  bool one_block = true;
  ReduceLayout layout;  // when one_block
  ReduceBlocks blocks;  // otherwise
  Shape out_shape;      // reduced dims dropped, or kept as 1 with keepdim
  std::int64_t reduced_count() const {
    if (one_block) return layout.reduced;
    std::int64_t n = 1;
    for (std::size_t b = 0; b < blocks.size.size(); ++b)
      if (blocks.reduced[b]) n *= blocks.size[b];
    return n;
  }
};

// dims: the dims to reduce (negative from the end; empty = all); duplicates are an error naming op.
ReducePlan plan_reduce(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim,
                       const char* op);

// Runs op over the plan's input (of element type T).
template <class T, class Op>
void run_reduce(const ReducePlan& p, const Op& op) {
  if (p.one_block) reduce_loop(p.packed.data<T>(), p.layout, op);
  else reduce_blocks(p.packed.data<T>(), p.blocks, op);
}

template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

// Σ f(x[i]) in four independent lanes, so the additions do not wait on each other.
template <class T, class F>
double lanes_sum(const T* x, std::int64_t n, F f) {
  double a = 0, b = 0, c = 0, d = 0;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += f(x[i]);
    b += f(x[i + 1]);
    c += f(x[i + 2]);
    d += f(x[i + 3]);
  }
  for (; i < n; ++i) a += f(x[i]);
  return (a + b) + (c + d);
}

template <class T> struct SumOp {
  using Acc = acc_t<T>;
  T* out;
  bool mean;
  static constexpr bool kLanes = true;
  Acc init() const { return Acc(0); }
  void step(Acc& a, T x, std::int64_t) const { a += static_cast<Acc>(x); }
  void combine(Acc& a, const Acc& b) const { a += b; }
  void finish(const Acc& a, std::int64_t n, std::int64_t i) const {
    out[i] = mean ? static_cast<T>(static_cast<double>(a) / static_cast<double>(n))
                  : static_cast<T>(a);
  }
};

template <class T> struct VarOp {
  struct Acc {
    double n = 0, mean = 0, m2 = 0;
  };
  T* out;
  int correction;
  static constexpr bool kLanes = false;
  Acc init() const { return {}; }
  void step(Acc& a, T x, std::int64_t) const {
    a.n += 1;
    const double d = x - a.mean;
    a.mean += d / a.n;
    a.m2 += d * (x - a.mean);
  }
  Acc line(const T* x, std::int64_t n) const {  // two passes: mean, then squared deviations
    if (n == 0) return {};
    const double m = lanes_sum(x, n, [](double v) { return v; }) / static_cast<double>(n);
    return {static_cast<double>(n), m, lanes_sum(x, n, [m](double v) { return (v - m) * (v - m); })};
  }
  void combine(Acc& a, const Acc& b) const {  // Chan et al.'s pairwise merge
    if (b.n == 0) return;
    if (a.n == 0) {
      a = b;
      return;
    }
    const double n = a.n + b.n, delta = b.mean - a.mean;
    a.mean += delta * b.n / n;
    a.m2 += b.m2 + delta * delta * a.n * b.n / n;
    a.n = n;
  }
  void finish(const Acc& a, std::int64_t, std::int64_t i) const {
    out[i] = static_cast<T>(a.m2 / std::max(0.0, a.n - correction));
  }
};

template <class T> struct LogSumExpOp {
  struct Acc {
    double m = -std::numeric_limits<double>::infinity(), s = 0;
  };
  T* out;
  static constexpr bool kLanes = false;
  Acc init() const { return {}; }
  static void add(Acc& a, double m, double s) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    if (m == -inf) return;  // exp(−inf) contributes nothing
    if (m > a.m) {
      a.s = a.s * std::exp(a.m - m) + s;
      a.m = m;
    } else if (!(a.m == inf && m == inf)) {
      a.s += s * std::exp(m - a.m);  // NaN inputs reach here and propagate
    }
  }
  void step(Acc& a, T x, std::int64_t) const { add(a, static_cast<double>(x), 1.0); }
  Acc line(const T* x, std::int64_t n) const {  // two passes: maximum, then Σ exp(x − max)
    constexpr double inf = std::numeric_limits<double>::infinity();
    double m = -inf;
    bool nan = false;
    for (std::int64_t i = 0; i < n; ++i) {
      nan |= x[i] != x[i];
      m = x[i] > m ? static_cast<double>(x[i]) : m;
    }
    if (nan) return {std::numeric_limits<double>::quiet_NaN(), 1.0};  // add() spreads the NaN
    if (m == -inf || m == inf) return {m, m == inf ? 1.0 : 0.0};
    return {m, lanes_sum(x, n, [m](double v) { return std::exp(v - m); })};
  }
  void combine(Acc& a, const Acc& b) const { add(a, b.m, b.s); }
  void finish(const Acc& a, std::int64_t, std::int64_t i) const {
    out[i] = static_cast<T>(a.m + std::log(a.s));
  }
};

template <class T> struct NormOp {
  using Acc = double;
  T* out;
  double p;
  static constexpr bool kLanes = true;
  Acc init() const { return 0; }
  void step(Acc& a, T x, std::int64_t) const {
    const double v = std::abs(static_cast<double>(x));
    a += p == 2.0 ? v * v : p == 1.0 ? v : std::pow(v, p);
  }
  void combine(Acc& a, const Acc& b) const { a += b; }
  void finish(const Acc& a, std::int64_t, std::int64_t i) const {
    out[i] = static_cast<T>(p == 2.0 ? std::sqrt(a) : p == 1.0 ? a : std::pow(a, 1.0 / p));
  }
};

template <class T, bool IsMax> struct ExtremeOp {
  struct Acc {
    T v{};
    std::int64_t idx = -1;
  };
  T* values;              // may be null (argmax)
  std::int64_t* indices;  // may be null (max_all)
  static constexpr bool kLanes = false;
  // x replaces the current best when strictly better, or when it is the first NaN.
  static bool better(T x, T best) {
    if (best != best) return false;
    if (x != x) return true;
    return IsMax ? x > best : x < best;
  }
  Acc init() const { return {}; }
  void step(Acc& a, T x, std::int64_t r) const {
    if (a.idx < 0 || better(x, a.v)) {
      a.v = x;
      a.idx = r;
    }
  }
  void combine(Acc& a, const Acc& b) const {
    if (b.idx >= 0 && (a.idx < 0 || better(b.v, a.v))) a = b;
  }
  void finish(const Acc& a, std::int64_t, std::int64_t i) const {
    if (values) values[i] = a.v;
    if (indices) indices[i] = a.idx;
  }
};

}  // namespace retort::cpu
