// Reader for tests/fixtures/kd/*.txt (written by tests/tools/make_kd_fixtures.py) and the checks
// every kd test repeats: value and student gradient against PyTorch, no gradient into the teacher.
#pragma once
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops/elementwise.h"
#include "support/helpers.h"
#include "tensor/error.h"

namespace retort::testing {

struct KdFixture {
  std::map<std::string, Tensor> tensors;                                      // float64
  std::map<std::string, std::pair<double, std::vector<double>>> cases;        // value, grad
  const Tensor& t(const std::string& name) const {
    auto it = tensors.find(name);
    RETORT_CHECK(it != tensors.end(), "kd fixture: no tensor ", name);
    return it->second;
  }
};

inline KdFixture read_kd_fixture(const std::string& file) {
  std::string path = std::string(RETORT_TEST_FIXTURES) + "/kd/" + file;
  std::ifstream in(path);
  RETORT_CHECK(in.good(), "fixture: cannot open ", path, " (run tests/tools/make_kd_fixtures.py)");
  KdFixture f;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string tag, name;
    ls >> tag >> name;
    if (tag == "tensor") {
      std::int64_t nd;
      ls >> nd;
      Shape dims(static_cast<std::size_t>(nd));
      for (auto& d : dims) ls >> d;
      std::vector<double> v(static_cast<std::size_t>(shape_numel(dims)));
      for (auto& x : v) ls >> x;
      f.tensors[name] = from_vector(v, dims, kFloat64);
    } else if (tag == "case") {
      auto& [value, grad] = f.cases[name];
      std::int64_t n;
      ls >> value >> n;
      grad.resize(static_cast<std::size_t>(n));
      for (auto& x : grad) ls >> x;
    }
  }
  return f;
}

// loss(x) on a fresh leaf copy of `student`: value and ∂loss/∂x must match the fixture case.
inline void check_kd_case(const KdFixture& fx, const std::string& name,
                          const std::function<Tensor(const Tensor&)>& loss,
                          const Tensor& student) {
  INFO("case " << name);
  auto it = fx.cases.find(name);
  REQUIRE(it != fx.cases.end());
  Tensor x = student.clone().set_requires_grad(true);
  Tensor l = loss(x);
  REQUIRE(l.numel() == 1);
  REQUIRE(l.item<double>() == Approx(it->second.first).epsilon(1e-10).margin(1e-12));
  l.backward();
  REQUIRE(x.grad().defined());
  REQUIRE_ALLCLOSE(x.grad(), from_vector(it->second.second, x.sizes(), kFloat64), 1e-10, 1e-9);
}

// Teacher inputs that require grad receive no gradient; the student does.
inline void check_teacher_detached(const std::function<Tensor(const Tensor&, const Tensor&)>& loss,
                                   const Tensor& student, const Tensor& teacher) {
  Tensor s = student.clone().set_requires_grad(true);
  Tensor t = teacher.clone().set_requires_grad(true);
  loss(s, t).backward();
  REQUIRE(s.grad().defined());
  REQUIRE_FALSE(t.grad().defined());
}

}  // namespace retort::testing
