// Per-output arithmetic of the CUDA reductions (reduce.cu), the device twins of the cpu Ops in
// tensor/cpu/reduce_ops.h:
//   Acc init();  step(Acc&, T x, r);  combine(Acc&, const Acc& other);  finish(Acc, n, row)
// A thread steps through its elements in increasing r; combine must not depend on which state came
// first (the block merges them as a tree), which holds for the sums, Chan's merge, the logsumexp
// rescaling and the extremes' "better value, else lower index" rule. Acc types are trivially
// copyable (they live in raw shared memory). The members are host-callable too, so the merge
// order of reduce.cu can be replayed on the cpu against the reference (no GPU needed).
#pragma once
#include <cstdint>
#include <type_traits>

namespace retort::cuda {

template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

template <class T> struct SumOp {
  using Acc = acc_t<T>;
  T* out;
  bool mean;
  __host__ __device__ Acc init() const { return Acc(0); }
  __host__ __device__ void step(Acc& a, T x, std::int64_t) const { a += static_cast<Acc>(x); }
  __host__ __device__ void combine(Acc& a, const Acc& b) const { a += b; }
  __host__ __device__ void finish(const Acc& a, std::int64_t n, std::int64_t i) const {
    out[i] = mean ? static_cast<T>(static_cast<double>(a) / static_cast<double>(n)) : static_cast<T>(a);
  }
};

struct VarAcc {
  double n, mean, m2;
};

template <class T> struct VarOp {
  using Acc = VarAcc;
  T* out;
  double correction;
  __host__ __device__ Acc init() const { return {0, 0, 0}; }
  __host__ __device__ void step(Acc& a, T xv, std::int64_t) const {  // Welford
    const double x = static_cast<double>(xv);
    a.n += 1;
    const double d = x - a.mean;
    a.mean += d / a.n;
    a.m2 += d * (x - a.mean);
  }
  __host__ __device__ void combine(Acc& a, const Acc& b) const {  // Chan et al.
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
  __host__ __device__ void finish(const Acc& a, std::int64_t, std::int64_t i) const {
    const double dof = a.n - correction;
    out[i] = static_cast<T>(a.m2 / (dof > 0 ? dof : 0.0));  // n ≤ correction: 0/0 or m2/0, as on cpu
  }
};

struct LseAcc {
  double m, s;  // log Σ exp = m + log s
};

template <class T> struct LogSumExpOp {
  using Acc = LseAcc;
  T* out;
  __host__ __device__ Acc init() const { return {-INFINITY, 0}; }
  // The cpu's add(): rescale when the maximum grows; −inf adds nothing; +inf with +inf stays. A
  // NaN is kept as the maximum itself (m = NaN), so no later merge can drop it: a state whose NaN
  // sat only in s, behind m = −inf, would be skipped as "adds nothing" by the next merge.
  __host__ __device__ static void add(Acc& a, double m, double s) {
    if (m != m || a.m != a.m) {
      a.m = NAN;
      a.s = 1;
      return;
    }
    if (m == -INFINITY) return;
    if (m > a.m) {
      a.s = a.s * exp(a.m - m) + s;
      a.m = m;
    } else if (!(a.m == INFINITY && m == INFINITY)) {
      a.s += s * exp(m - a.m);
    }
  }
  __host__ __device__ void step(Acc& a, T x, std::int64_t) const { add(a, static_cast<double>(x), 1.0); }
  __host__ __device__ void combine(Acc& a, const Acc& b) const { add(a, b.m, b.s); }
  __host__ __device__ void finish(const Acc& a, std::int64_t, std::int64_t i) const {
    out[i] = static_cast<T>(a.m + log(a.s));
  }
};

template <class T> struct NormOp {
  using Acc = double;
  T* out;
  double p;
  __host__ __device__ Acc init() const { return 0; }
  __host__ __device__ void step(Acc& a, T x, std::int64_t) const {
    const double v = fabs(static_cast<double>(x));
    a += p == 2.0 ? v * v : p == 1.0 ? v : pow(v, p);
  }
  __host__ __device__ void combine(Acc& a, const Acc& b) const { a += b; }
  __host__ __device__ void finish(const Acc& a, std::int64_t, std::int64_t i) const {
    out[i] = static_cast<T>(p == 2.0 ? sqrt(a) : p == 1.0 ? a : pow(a, 1.0 / p));
  }
};

template <class T> struct ExtremeAcc {
  T v;
  std::int64_t idx;  // −1: no element yet
};

template <class T, bool IsMax> struct ExtremeOp {
  using Acc = ExtremeAcc<T>;
  T* values;              // may be null (argmax)
  std::int64_t* indices;  // may be null (max_all)
  __host__ __device__ static bool is_nan(T x) { return x != x; }
  __host__ __device__ Acc init() const { return {T(0), -1}; }
  // In increasing r: replace when strictly better or the first NaN (the cpu's step).
  __host__ __device__ void step(Acc& a, T x, std::int64_t r) const {
    bool take = a.idx < 0;
    if (!take && !is_nan(a.v)) take = is_nan(x) || (IsMax ? x > a.v : x < a.v);
    if (take) {
      a.v = x;
      a.idx = r;
    }
  }
  // Any order: NaN beats numbers, the better number beats the worse, equals go to the lower index.
  __host__ __device__ void combine(Acc& a, const Acc& b) const {
    if (b.idx < 0) return;
    if (a.idx < 0) {
      a = b;
      return;
    }
    const bool an = is_nan(a.v), bn = is_nan(b.v);
    bool take;
    if (an || bn) take = an && bn ? b.idx < a.idx : bn;
    else take = (IsMax ? b.v > a.v : b.v < a.v) || (b.v == a.v && b.idx < a.idx);
    if (take) a = b;
  }
  __host__ __device__ void finish(const Acc& a, std::int64_t, std::int64_t i) const {
    if (values) values[i] = a.v;
    if (indices) indices[i] = a.idx;
  }
};

}  // namespace retort::cuda
