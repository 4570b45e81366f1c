// Shared test helpers: tensor comparison with a useful failure message, random inputs, and a
// gradcheck assertion that prints which element failed.
#pragma once
#include <catch2/catch.hpp>

#include <string>

#include "autograd/gradcheck.h"
#include "tensor/tensor.h"

namespace retort::testing {

// Max |a − b| over all elements after broadcasting-free shape check; both converted to double.
double max_abs_diff(const Tensor& a, const Tensor& b);
// True when shapes match and |a − b| ≤ atol + rtol·|b| elementwise; on failure `why` says where.
bool allclose(const Tensor& a, const Tensor& b, double atol, double rtol, std::string* why = nullptr);
// Normal(0,1) values from a private seeded generator (does not disturb the global one).
Tensor random_tensor(const Shape& sizes, DType dtype, std::uint64_t seed, double scale = 1.0);

// A float64 leaf of N(0,1) values from a private seed, requiring grad unless requires_grad is
// false: the usual gradcheck input.
Tensor grad_leaf(const Shape& sizes, std::uint64_t seed, bool requires_grad = true);
// Whether float32 ops take the oneDNN fast paths in this build and run (RETORT_ONEDNN=0 or
// onednn::set_enabled(false) turn them off).
bool onednn_fast_paths();
// Turns the oneDNN fast paths on or off for a scope (off: every op runs its reference kernel) and
// restores the previous setting when it ends; a no-op in a build without oneDNN.
class FastPaths {
 public:
  explicit FastPaths(bool on);
  ~FastPaths();
  FastPaths(const FastPaths&) = delete;
  FastPaths& operator=(const FastPaths&) = delete;

 private:
  bool was_;
};

}  // namespace retort::testing

#define REQUIRE_ALLCLOSE(a, b, atol, rtol)                                   \
  do {                                                                       \
    std::string retort_why_;                                                 \
    bool retort_ok_ = ::retort::testing::allclose((a), (b), (atol), (rtol), &retort_why_); \
    INFO(retort_why_);                                                       \
    REQUIRE(retort_ok_);                                                     \
  } while (0)

#define REQUIRE_GRADCHECK(fn, inputs, ...)                                   \
  do {                                                                       \
    auto retort_gc_ = ::retort::gradcheck((fn), (inputs), ##__VA_ARGS__);   \
    INFO(retort_gc_.message);                                                \
    REQUIRE(retort_gc_.ok);                                                  \
  } while (0)
