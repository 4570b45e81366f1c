// Finite-difference gradient check, for tests and for anyone adding an op or a loss.
//
// For f: inputs → output (any shape), draw a random probe v of the output's shape and compare,
// for every input that requires grad, the analytic gradient of L = Σ f(x)·v (one backward with
// gradient v) against central differences (L(x+ε·e) − L(x−ε·e)) / 2ε. Each element is probed
// when the input has at most `max_elements` elements; larger inputs are checked along
// `directions` random unit directions u instead (⟨∇L, u⟩ vs the difference along u).
// Inputs must be float64. Pass: |analytic − numeric| ≤ atol + rtol·|numeric| everywhere.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace retort {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-4;
  std::int64_t max_elements = 4096;
  int directions = 8;
  std::uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string message;  // first failure: which input, which element, both values
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opt = {});

}  // namespace retort
