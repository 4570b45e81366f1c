// Deterministic weights/inputs shared with tests/tools/make_nn_fixtures.py, and readers for the
// fixture files it writes under tests/fixtures/nn/. The formula (see the script's docstring) uses
// only 64-bit integer arithmetic and an exact scaling, so C++ and Python produce bit-identical
// float64 values.
#pragma once
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "tensor/error.h"

namespace retort::testing {

inline std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// u(stream, i) in [0, 1).
inline double fixture_uniform(std::uint64_t stream, std::uint64_t i) {
  return static_cast<double>(splitmix64((stream << 32) + i) >> 11) / 9007199254740992.0;
}

// Parameter k: sqrt(6/fan_in)·(2u − 1) for weights, 0.1·(2u − 1) for biases, stream k + 1.
inline void formula_weights(nn::Module& m) {
  std::uint64_t k = 0;
  for (auto& [name, p] : m.named_parameters()) {
    std::int64_t n = p.numel();
    double amp = p.dim() >= 2 ? std::sqrt(6.0 / static_cast<double>(n / p.size(0))) : 0.1;
    std::vector<double> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
      v[static_cast<std::size_t>(i)] =
          amp * (2.0 * fixture_uniform(k + 1, static_cast<std::uint64_t>(i)) - 1.0);
    p.copy_(from_vector(v, p.sizes(), kFloat64));
    ++k;
  }
}

inline Tensor formula_input(std::int64_t n, std::int64_t c, std::int64_t s, DType dtype) {
  std::vector<double> v(static_cast<std::size_t>(n * c * s * s));
  for (std::size_t j = 0; j < v.size(); ++j) v[j] = 2.0 * fixture_uniform(1000, j) - 1.0;
  return from_vector(v, {n, c, s, s}, dtype);
}

inline Tensor formula_labels(std::int64_t n, std::int64_t classes) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back((3 + 4 * i) % classes);
  return from_vector(v, {n});
}

inline std::string fixture_path(const std::string& name) {
  return std::string(RETORT_TEST_FIXTURES) + "/nn/" + name;
}

// One file written by make_nn_fixtures.py's write_net().
struct NetFixture {
  std::int64_t n = 0, c = 0, s = 0, classes = 0;
  std::vector<double> logits;
  double loss = 0;
  struct Grad {
    std::string name;
    std::int64_t numel = 0;
    double sum = 0, sumsq = 0;
    std::vector<std::pair<std::int64_t, double>> samples;
  };
  std::vector<Grad> grads;
};

inline NetFixture read_net_fixture(const std::string& name) {
  std::ifstream in(fixture_path(name));
  RETORT_CHECK(in.good(), "fixture: cannot open ", fixture_path(name),
               " (run tests/tools/make_nn_fixtures.py)");
  NetFixture f;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "input") {
      ls >> f.n >> f.c >> f.s;
    } else if (tag == "logits") {
      std::int64_t n;
      ls >> n >> f.classes;
      f.logits.resize(static_cast<std::size_t>(n * f.classes));
      for (auto& v : f.logits) ls >> v;
    } else if (tag == "loss") {
      ls >> f.loss;
    } else if (tag == "grad") {
      NetFixture::Grad g;
      ls >> g.name >> g.numel >> g.sum >> g.sumsq;
      std::int64_t i;
      double v;
      while (ls >> i >> v) g.samples.emplace_back(i, v);
      f.grads.push_back(g);
    }
  }
  return f;
}

// losses.txt: case → (output values, gradient of sum(output) w.r.t. the first input).
inline std::map<std::string, std::pair<std::vector<double>, std::vector<double>>>
read_loss_fixture() {
  std::ifstream in(fixture_path("losses.txt"));
  RETORT_CHECK(in.good(), "fixture: cannot open ", fixture_path("losses.txt"));
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name, tok;
    std::int64_t n;
    ls >> name >> n;
    auto& [vals, grad] = out[name];
    for (std::int64_t i = 0; i < n; ++i) {
      double v;
      ls >> v;
      vals.push_back(v);
    }
    ls >> tok;  // "|"
    double v;
    while (ls >> v) grad.push_back(v);
  }
  return out;
}

}  // namespace retort::testing
