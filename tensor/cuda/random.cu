// Bernoulli fill (ops.h) from a counter-based generator: element i (row-major) of a fill with
// seed s takes the i-th output of the SplitMix64 sequence started at s, i.e. the SplitMix64
// finaliser of s + (i + 1)·γ, γ the 64-bit golden ratio. No state lives on the device, any thread
// can draw any element, and a given (seed, shape) gives the same tensor on every run and GPU.
// The uniform is the top 53 bits scaled to [0, 1), as Generator::uniform does on the cpu (the
// two streams differ: the cpu draws from the Mersenne Twister).
#include <cstdint>

#include "tensor/cuda/common.h"
#include "tensor/cuda/ops.h"
#include "tensor/cuda/strided.cuh"

namespace retort::cuda {

namespace {

__device__ inline std::uint64_t splitmix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

template <class T> struct BernoulliF {
  T* t;
  double p;
  std::uint64_t seed;
  __device__ void operator()(std::int64_t i, const std::int64_t (&o)[1]) const {
    const std::uint64_t r = splitmix64(seed + (static_cast<std::uint64_t>(i) + 1) * 0x9E3779B97F4A7C15ULL);
    const double u = static_cast<double>(r >> 11) * 0x1.0p-53;  // [0, 1)
    t[o[0]] = u < p ? T(1) : T(0);
  }
};

}  // namespace

void bernoulli_(const Tensor& t, double p, std::uint64_t seed) {
  check_cuda_tensor(t, "bernoulli_", "tensor");
  RETORT_CHECK(p >= 0 && p <= 1, "bernoulli_: p must be in [0, 1], got ", p);
  DeviceGuard guard(t);
  dispatch_all(t.dtype(), "bernoulli_", [&]<class T>() {
    for_each<1>(t.sizes(), {t.strides()}, BernoulliF<T>{ptr<T>(t), p, seed}, "bernoulli_");
  });
}

}  // namespace retort::cuda
