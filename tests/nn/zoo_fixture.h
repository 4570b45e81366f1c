// The model-zoo parity check, shared by the tests of every family (tests/nn/test_zoo_*.cpp).
// Weights and input come from the formula of tests/tools/zoo_fixture_common.py (bit-identical in
// float64 on both sides); the fixture tests/fixtures/zoo/<name>.txt holds what the PyTorch
// transcription of RepDistiller's model computed with them. check_zoo_model(name, dtype) asserts:
// the state-dict keys and shapes equal PyTorch's (so a RepDistiller checkpoint maps by name), the
// parameter count, RepDistiller's feature list (is_feat, and preact) read through the model's
// taps, the logits in eval and in train mode, and the running statistics after the train forward.
// The weights travel through a safetensors file on the way in.
#pragma once
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "nn/fixture_util.h"
#include "nn/serialization.h"
#include "nn/zoo.h"
#include "support/temp_dir.h"

namespace retort::testing {

struct ZooFixture {
  std::string model;
  std::int64_t params = 0, n = 0;
  std::vector<std::pair<std::string, Shape>> state;
  struct Feat {
    bool preact = false;
    std::int64_t index = 0;
    Shape shape;
    double sum = 0, sumsq = 0;
  };
  std::vector<Feat> feats;
  std::vector<double> logits_eval, logits_train;
  std::vector<std::pair<std::string, double>> buffers;
};

inline ZooFixture read_zoo_fixture(const std::string& name) {
  std::string path = std::string(RETORT_TEST_FIXTURES) + "/zoo/" + name + ".txt";
  std::ifstream in(path);
  RETORT_CHECK(in.good(), "zoo fixture: cannot open ", path, " (run tests/tools/make_zoo_fixtures_*.py)");
  ZooFixture f;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag;
    ls >> tag;
    if (tag == "model") {
      std::string k;
      std::int64_t c, s;
      ls >> f.model >> k >> f.params >> k >> f.n >> c >> s;
    } else if (tag == "state") {
      std::string key;
      ls >> key;
      Shape shape;
      std::int64_t d;
      while (ls >> d) shape.push_back(d);
      f.state.emplace_back(key, shape);
    } else if (tag == "feat") {
      ZooFixture::Feat ft;
      std::string kind, tok;
      ls >> kind >> ft.index;
      ft.preact = kind == "preact";
      while (ls >> tok && tok != ":") ft.shape.push_back(std::stoll(tok));
      ls >> ft.sum >> ft.sumsq;
      f.feats.push_back(ft);
    } else if (tag == "logits_eval" || tag == "logits_train") {
      auto& v = tag == "logits_eval" ? f.logits_eval : f.logits_train;
      double x;
      while (ls >> x) v.push_back(x);
    } else if (tag == "buffer") {
      std::string key;
      double s;
      ls >> key >> s;
      f.buffers.emplace_back(key, s);
    }
  }
  return f;
}

// The formula state (see zoo_fixture_common.py), as a float64 state dict with the model's keys.
inline nn::TensorMap zoo_formula_state(const nn::Module& m) {
  nn::TensorMap out;
  std::uint64_t k = 0;
  for (auto& [name, t] : m.state_dict()) {
    ++k;
    if (name.size() >= 19 && name.substr(name.size() - 19) == "num_batches_tracked") {
      out[name] = t.clone();
      continue;
    }
    auto ends = [&](const std::string& s) {
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    std::int64_t n = t.numel();
    std::vector<double> v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      double u = fixture_uniform(k, static_cast<std::uint64_t>(i));
      double& x = v[static_cast<std::size_t>(i)];
      if (t.dim() >= 2)
        x = std::sqrt(6.0 / static_cast<double>(n / t.size(0))) * (2 * u - 1);
      else if (ends("running_var"))
        x = 0.5 + u;
      else if (ends("running_mean"))
        x = 0.1 * (2 * u - 1);
      else if (ends(".weight"))
        x = 1 + 0.1 * (2 * u - 1);
      else
        x = 0.1 * (2 * u - 1);
    }
    out[name] = from_vector(v, t.sizes(), kFloat64);
  }
  return out;
}

// Relative closeness of two value lists: max |a−b| ≤ tol·max(1, max |b|).
inline void require_close_values(const std::vector<double>& got, const std::vector<double>& want,
                                 double tol, const std::string& what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  double scale = 1, err = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    scale = std::max(scale, std::abs(want[i]));
    err = std::max(err, std::abs(got[i] - want[i]));
  }
  INFO("max abs error " << err << ", scale " << scale);
  REQUIRE(err <= tol * scale);
}

// tol: relative tolerance of logits and feature sums (about 1e-9 in float64, 2e-3 in float32).
inline void check_zoo_model(const std::string& name, DType dtype, double tol) {
  ZooFixture f = read_zoo_fixture(name);
  auto model = nn::create_model(name, 100, {.dtype = dtype});
  REQUIRE(model->num_parameters() == f.params);

  auto sd = model->state_dict();
  REQUIRE(sd.size() == f.state.size());
  for (std::size_t k = 0; k < sd.size(); ++k) {
    INFO("state entry " << k);
    REQUIRE(sd[k].first == f.state[k].first);
    REQUIRE(sd[k].second.sizes() == f.state[k].second);
  }

  TempDir dir("zoo");
  std::string file = dir.file(name + ".safetensors");
  nn::save_safetensors(zoo_formula_state(*model), file);
  nn::load_safetensors(*model, file);

  Tensor x = formula_input(f.n, 3, 32, dtype);
  NoGradGuard ng;
  model->eval();
  for (bool preact : {false, true}) {
    std::vector<nn::FeatureTap> taps;
    for (const auto& path : model->feature_taps(preact)) taps.push_back(model->tap(path));
    (*model)(x);
    std::size_t i = 0;
    for (const auto& ft : f.feats) {
      if (ft.preact != preact) continue;
      INFO("feature " << ft.index << (preact ? " (preact)" : "") << " at tap "
                      << taps.at(i).path());
      REQUIRE(i < taps.size());
      Tensor v = taps[i].output().to(kFloat64);
      REQUIRE(v.sizes() == ft.shape);
      require_close_values({sum(v).item<double>(), sum(v * v).item<double>()},
                           {ft.sum, ft.sumsq}, tol, "feature sums");
      ++i;
    }
    REQUIRE(i == taps.size());
  }
  require_close_values((*model)(x).to(kFloat64).to_vector<double>(), f.logits_eval, tol,
                       "eval logits");
  model->train();
  require_close_values((*model)(x).to(kFloat64).to_vector<double>(), f.logits_train, tol,
                       "train logits");
  auto named = model->state_dict();
  for (const auto& [key, sum] : f.buffers) {
    for (auto& [k, t] : named)
      if (k == key)
        require_close_values({retort::sum(t.to(kFloat64)).item<double>()}, {sum}, tol, key);
  }
}

}  // namespace retort::testing
