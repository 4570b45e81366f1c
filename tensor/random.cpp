// Random numbers (tensor/random.h). std::mt19937_64 is specified bit for bit by the standard, but
// the std:: distributions are not (libstdc++, libc++ and MSVC differ), so every transform here is
// written out: uniform from the top 53 bits, normal by Box–Muller, integers by rejection. The same
// seed therefore gives the same tensors on every platform. Fills visit elements in row-major order.
#include "tensor/random.h"

#include <cmath>
#include <numbers>
#include <sstream>
#include <utility>

#include "retort_config.h"
#include "tensor/cpu/iter.h"
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort {

// Rejects the top partial block of 2^64 so every value is equally likely.
std::uint64_t Generator::below(std::uint64_t n) {
  RETORT_CHECK(n > 0, "Generator::below: n must be > 0");
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    const std::uint64_t r = engine_();
    if (r < limit) return r % n;
  }
}

std::string Generator::state() const {
  std::ostringstream os;
  os << engine_;
  return os.str();
}

// operator>> on a malformed stream sets failbit; anything left over (or a count that is too
// short) is refused as well, so a truncated or edited state never half-applies.
void Generator::set_state(const std::string& state) {
  std::istringstream is(state);
  std::mt19937_64 e;
  is >> e;
  RETORT_CHECK(!is.fail() && (is >> std::ws).eof(), "Generator::set_state: not a generator state (",
               state.size(), " characters)");
  engine_ = e;
}

double Generator::uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;  // k / 2^53, k in [0, 2^53)
}

double Generator::normal() {
  // Box–Muller on u1 in (0, 1] (so the log is finite) and u2 in [0, 1); the sine half is dropped
  // so one call is one independent draw and the stream stays easy to reason about.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Generator& default_generator() {
  static Generator g(0);
  return g;
}

void manual_seed(std::uint64_t seed) { default_generator().seed(seed); }

namespace {

Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

// t[i] = draw() for every element in row-major order, converted to t's dtype.
template <class Draw>
void fill_with(const Tensor& t, const char* op, Draw&& draw) {
  RETORT_CHECK(t.defined() && t.device().is_cpu(), op, ": expected a defined cpu tensor");
  RETORT_DISPATCH_FLOATING(t.dtype(), op, [&]<class T>() {
    T* p = t.data<T>();
    cpu::for_each_offset<1>(t.sizes(), {&t.strides()},
                            [&](const auto& o) { p[o[0]] = static_cast<T>(draw()); });
  });
}

}  // namespace

void uniform_(const Tensor& t, double lo, double hi, Generator* gen) {
  RETORT_CHECK(lo <= hi, "uniform_: expected lo <= hi, got [", lo, ", ", hi, ")");
  Generator& g = pick(gen);
  const bool f32 = t.dtype() == kFloat32;
  fill_with(t, "uniform_", [&] {
    double v = lo + (hi - lo) * g.uniform();
    // Rounding to float32 can land exactly on hi; keep the interval half-open.
    if (f32 && lo < hi && static_cast<float>(v) >= static_cast<float>(hi))
      v = std::nextafter(static_cast<float>(hi), static_cast<float>(lo));
    return v;
  });
}

void normal_(const Tensor& t, double mean, double std, Generator* gen) {
  RETORT_CHECK(std >= 0, "normal_: std must be >= 0, got ", std);
  Generator& g = pick(gen);
  fill_with(t, "normal_", [&] { return mean + std * g.normal(); });
}

Tensor rand(const Shape& sizes, DType dtype, Generator* gen) {
  Tensor t = empty(sizes, dtype);
  uniform_(t, 0.0, 1.0, gen);
  return t;
}

Tensor randn(const Shape& sizes, DType dtype, Generator* gen) {
  Tensor t = empty(sizes, dtype);
  normal_(t, 0.0, 1.0, gen);
  return t;
}

Tensor bernoulli(const Shape& sizes, double p, DType dtype, Generator* gen) {
  Tensor t = empty(sizes, dtype);
  bernoulli_(t, p, gen);
  return t;
}

void bernoulli_(const Tensor& t, double p, Generator* gen) {
  RETORT_CHECK(p >= 0 && p <= 1, "bernoulli: p must be in [0, 1], got ", p);
  Generator& g = pick(gen);
#if RETORT_WITH_CUDA
  if (t.defined() && t.device().is_cuda()) {
    RETORT_CHECK(is_floating(t.dtype()), "bernoulli: expected a floating dtype, got ", dtype_name(t.dtype()));
    return cuda::bernoulli_(t, p, g.engine()());
  }
#endif
  fill_with(t, "bernoulli", [&] { return g.uniform() < p ? 1.0 : 0.0; });
}

Tensor randint(std::int64_t lo, std::int64_t hi, const Shape& sizes, Generator* gen) {
  RETORT_CHECK(lo < hi, "randint: expected lo < hi, got [", lo, ", ", hi, ")");
  Generator& g = pick(gen);
  Tensor t = empty(sizes, kInt64);
  std::int64_t* p = t.data<std::int64_t>();
  const auto n = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  for (std::int64_t i = 0; i < t.numel(); ++i)
    p[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + g.below(n));
  return t;
}

Tensor randperm(std::int64_t n, Generator* gen) {
  RETORT_CHECK(n >= 0, "randperm: n must be >= 0, got ", n);
  Generator& g = pick(gen);
  Tensor t = arange(n, kInt64);
  std::int64_t* p = t.data<std::int64_t>();
  // Fisher–Yates, written out because std::shuffle's draws are implementation-defined.
  for (std::int64_t i = n - 1; i > 0; --i)
    std::swap(p[i], p[static_cast<std::int64_t>(g.below(static_cast<std::uint64_t>(i) + 1))]);
  return t;
}

}  // namespace retort
