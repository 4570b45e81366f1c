// Replays the optimiser runs of tests/tools/make_optim_fixtures.py in C++ and compares with the
// PyTorch values in tests/fixtures/optim/<name>.txt. Same recipe as the script: parameters [3,4]
// and [5], flat index k over both, p₀[k] = cos(0.7k), gradient at step s = 0.3·p[k] + sin(s + k)
// computed in double then converted to the parameter's dtype; parameter 1 gets no gradient at
// step 4 and parameter 0 none at step 7.
#pragma once
#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "optim/optimizer.h"
#include "support/helpers.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/views.h"

namespace retort::testing::optim_replay {

inline const std::vector<Shape> kShapes = {{3, 4}, {5}};
constexpr int kSteps = 10;

// Rows 0..10 of the fixture: all 17 parameter values after each step (row 0 = initial).
inline std::vector<std::vector<double>> load(const std::string& name) {
  const std::string path = std::string(RETORT_TEST_FIXTURES) + "/optim/" + name + ".txt";
  std::ifstream in(path);
  INFO(path);
  REQUIRE(in.good());
  std::vector<std::vector<double>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    rows.emplace_back();
    for (double v; ls >> v;) rows.back().push_back(v);
  }
  REQUIRE(rows.size() == kSteps + 1);
  return rows;
}

inline std::vector<Tensor> initial_params(DType dtype) {
  std::vector<Tensor> params;
  int k = 0;
  for (const auto& shape : kShapes) {
    std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
    for (auto& e : v) e = std::cos(0.7 * k++);
    params.push_back(from_vector(v, shape, dtype));
    params.back().set_requires_grad();
  }
  return params;
}

inline void set_grads(std::vector<Tensor>& params, int step) {
  int k = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    Tensor& p = params[i];
    const auto pv = p.to_vector<double>();
    const bool skip = (step == 4 && i == 1) || (step == 7 && i == 0);
    std::vector<double> g(pv.size());
    for (std::size_t j = 0; j < pv.size(); ++j) g[j] = 0.3 * pv[j] + std::sin(static_cast<double>(step + k + j));
    p.set_grad(skip ? Tensor() : from_vector(g, p.sizes(), p.dtype()));
    k += static_cast<int>(pv.size());
  }
}

inline Tensor flat(const std::vector<Tensor>& params) {
  std::vector<double> v;
  for (const auto& p : params)
    for (double x : p.to_vector<double>()) v.push_back(x);
  return from_vector(v, {static_cast<std::int64_t>(v.size())}, kFloat64);
}

using MakeOptimizer = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;

// Runs 10 steps and checks every step against the fixture; returns the optimiser for more checks.
inline std::unique_ptr<optim::Optimizer> replay(const std::string& name, DType dtype,
                                                const MakeOptimizer& make, double atol) {
  const auto rows = load(name);
  auto params = initial_params(dtype);
  auto opt = make(params);
  for (int step = 0; step <= kSteps; ++step) {
    if (step > 0) {
      set_grads(params, step);
      opt->step();
    }
    INFO(name << " " << dtype_name(dtype) << " after step " << step);
    REQUIRE_ALLCLOSE(flat(params), from_vector(rows[static_cast<std::size_t>(step)], {17}, kFloat64), atol, 0.0);
  }
  return opt;
}

// One parameter large enough that its update loop is split across OpenMP threads, against the
// same values held as pieces small enough to run serially: after three steps with the same
// gradients the two agree bit for bit.
inline void check_split_update(const MakeOptimizer& make) {
  constexpr std::int64_t kPiece = 12000, kPieces = 4;  // kPiece < cpu::kParallelGrain < the whole
  Tensor whole = random_tensor({kPiece * kPieces}, kFloat32, 41);
  std::vector<Tensor> pieces;
  for (std::int64_t k = 0; k < kPieces; ++k)
    pieces.push_back(ops::narrow(whole, 0, k * kPiece, kPiece).clone().set_requires_grad());
  whole.set_requires_grad();
  auto big = make({whole}), small = make(pieces);
  for (int step = 0; step < 3; ++step) {
    Tensor g = random_tensor({kPiece * kPieces}, kFloat32, 50 + static_cast<std::uint64_t>(step));
    whole.set_grad(g.clone());
    for (std::int64_t k = 0; k < kPieces; ++k)
      pieces[static_cast<std::size_t>(k)].set_grad(ops::narrow(g, 0, k * kPiece, kPiece).clone());
    big->step();
    small->step();
  }
  for (std::int64_t k = 0; k < kPieces; ++k)
    REQUIRE(max_abs_diff(ops::narrow(whole, 0, k * kPiece, kPiece), pieces[static_cast<std::size_t>(k)]) == 0.0);
}

}  // namespace retort::testing::optim_replay
