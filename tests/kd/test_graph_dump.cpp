// Graph dump (kd/graph_dump.h): on a tiny two-term graph, the DOT text has every op with its
// output shape, the named leaf, constants for the no-grad inputs, one colour per term (white for
// the shared part), the exact edge count, balanced braces; rendered with `dot` when installed.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/reduce.h"
#include "kd/graph_dump.h"
#include "nn/linear.h"
#include "support/helpers.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {
int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}
}  // namespace

TEST_CASE("to_dot draws ops, leaves, constants and term colours", "[kd]") {
  Tensor w = random_tensor({3, 2}, kFloat64, 1).set_requires_grad();
  Tensor x = random_tensor({3, 2}, kFloat64, 2);  // constant input
  Tensor t = random_tensor({3, 2}, kFloat64, 3);  // a "teacher output": no grad
  Tensor a = w * x;                              // shared by both terms
  Tensor ce = sum(a);
  Tensor kd = sum(a * t);
  kd::NameMap names{{w.impl().get(), "student.fc.weight"}};
  kd::DotStats st;
  std::string dot = kd::to_dot({{"ce", ce}, {"kd", kd}}, names, &st);
  INFO(dot);
  REQUIRE(st.ops == 4);
  REQUIRE(st.leaves == 1);
  REQUIRE(st.constants == 2);
  REQUIRE(st.edges == 6);  // mul(w,x): 2, sum: 1, mul(a,t): 2, sum: 1
  REQUIRE(count(dot, "->") == 6 + 2);  // plus root → term note, one per term
  REQUIRE(count(dot, "[3,2]") == 3);   // two mul outputs and the leaf
  REQUIRE(dot.find("student.fc.weight\\n[3,2]") != std::string::npos);
  REQUIRE(dot.find("term: ce") != std::string::npos);
  REQUIRE(dot.find("term: kd") != std::string::npos);
  REQUIRE(count(dot, "constant (no grad)") == 2);
  // Term colours: sum of ce in colour 0, mul+sum of kd in colour 1, shared mul and leaf white.
  REQUIRE(count(dot, "fillcolor=\"#8dd3c7\"") == 1 + 1);  // ce's sum + its note
  REQUIRE(count(dot, "fillcolor=\"#fdb462\"") == 2 + 1);  // kd's mul, sum + its note
  REQUIRE(count(dot, "fillcolor=\"white\"") == 2);
  REQUIRE(count(dot, "penwidth=3") == 2);  // the two roots
  REQUIRE(count(dot, "{") == count(dot, "}"));
  REQUIRE(dot.rfind("digraph autograd {", 0) == 0);
}

TEST_CASE("write_dot names module parameters and renders with dot", "[kd]") {
  auto fc = std::make_shared<nn::Linear>(4, 3);
  Tensor x = random_tensor({2, 4}, kFloat32, 4);
  Tensor loss = sum((*fc)(x));
  auto names = kd::name_map({{"student.fc", fc->named_parameters()}});
  std::string path = "retort_test_graph_dump.dot";
  kd::write_dot(path, {{"ce", loss}}, names);
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string dot = ss.str();
  INFO(dot);
  REQUIRE(dot.find("student.fc.weight\\n[3,4]") != std::string::npos);
  REQUIRE(dot.find("student.fc.bias\\n[3]") != std::string::npos);
  // A dump after backward still shows the graph (nodes keep their names when released).
  loss.backward();
  REQUIRE(kd::to_dot({{"ce", loss}}, names) == dot);
  if (kd::dot_available()) {
    REQUIRE(kd::render_png(path, "retort_test_graph_dump.png"));
    std::ifstream png("retort_test_graph_dump.png", std::ios::binary);
    char magic[4] = {};
    png.read(magic, 4);
    REQUIRE(std::string(magic + 1, 3) == "PNG");
    std::remove("retort_test_graph_dump.png");
  } else {
    REQUIRE_FALSE(kd::render_png(path, "retort_test_graph_dump.png"));
  }
  std::remove(path.c_str());
  REQUIRE_THROWS_WITH(kd::write_dot("/nonexistent-dir/x.dot", {{"ce", loss}}), Catch::Contains("write_dot"));
}
