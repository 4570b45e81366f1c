// Seeded random numbers. A Generator is a 64-bit Mersenne Twister; the global one is reset by
// manual_seed(seed), after which every draw (parameter init, dropout, shuffles) is reproducible
// run to run. Fill functions take an optional generator; nullptr means the global one.
#pragma once
#include <cstdint>
#include <random>
#include <string>

#include "tensor/tensor.h"

namespace retort {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}
  void seed(std::uint64_t s) { engine_.seed(s); }
  std::mt19937_64& engine() { return engine_; }
  double uniform();  // [0, 1)
  double normal();   // N(0, 1)
  // A uniform integer in [0, n), n > 0, every value equally likely (randint's draw).
  std::uint64_t below(std::uint64_t n);
  // The engine's full state as text (the 312 words of mt19937_64 and its position), and back:
  // a generator restored from state() continues with exactly the draws the original would have
  // made. set_state throws on text that is not such a state, leaving the generator unchanged.
  std::string state() const;
  void set_state(const std::string& state);

 private:
  std::mt19937_64 engine_;
};

Generator& default_generator();
void manual_seed(std::uint64_t seed);

// In-place fills (float tensors on the CPU).
void uniform_(const Tensor& t, double lo, double hi, Generator* gen = nullptr);
void normal_(const Tensor& t, double mean, double std, Generator* gen = nullptr);

Tensor rand(const Shape& sizes, DType dtype = kFloat32, Generator* gen = nullptr);   // U[0,1)
Tensor randn(const Shape& sizes, DType dtype = kFloat32, Generator* gen = nullptr);  // N(0,1)
// 1 with probability p, else 0.
Tensor bernoulli(const Shape& sizes, double p, DType dtype = kFloat32, Generator* gen = nullptr);
// The same in place, on t's device (floating t). A cpu t gets exactly bernoulli()'s draws; a cuda
// t takes one 64-bit draw from the generator as the seed of a counter-based stream on the GPU
// (reproducible for a given seed, but a different stream from the cpu's).
void bernoulli_(const Tensor& t, double p, Generator* gen = nullptr);
// Random integers in [lo, hi), int64.
Tensor randint(std::int64_t lo, std::int64_t hi, const Shape& sizes, Generator* gen = nullptr);
// A random permutation of 0..n−1, int64.
Tensor randperm(std::int64_t n, Generator* gen = nullptr);

}  // namespace retort
