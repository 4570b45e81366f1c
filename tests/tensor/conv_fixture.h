// PyTorch fixtures for convolution, transposed convolution and pooling (written by
// tests/tools/make_conv_fixtures.py and make_conv_transpose_fixtures.py): the closed-form inputs
// the generators used, and the expected values they recorded.
#pragma once
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/helpers.h"

namespace retort::testing {

inline Tensor closed_form(const Shape& s, DType dt, double (*f)(double)) {
  std::vector<double> v(static_cast<std::size_t>(shape_numel(s)));
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = f(static_cast<double>(k));
  return from_vector(v, s, dt);
}
inline Tensor fixture_x(const Shape& s, DType dt) {
  return closed_form(s, dt, [](double k) { return std::sin(0.37 * k + 0.1); });
}
inline Tensor fixture_w(const Shape& s, DType dt) {
  return closed_form(s, dt, [](double k) { return 0.5 * std::cos(0.23 * k); });
}
inline Tensor fixture_b(std::int64_t n, DType dt) {
  return closed_form({n}, dt, [](double k) { return 0.1 * k - 0.2; });
}
inline Tensor fixture_gy(const Shape& s, DType dt) {
  return closed_form(s, dt, [](double k) { return std::cos(0.11 * k + 0.3); });
}

// The recorded values of `tensor` (y, gx, gw, gb) for `name`, shaped like `like`, from
// tests/fixtures/conv/<file>.
inline Tensor fixture_values(const std::string& name, const std::string& tensor,
                             const Shape& like, const std::string& file = "pytorch.txt") {
  std::ifstream in(std::string(RETORT_TEST_FIXTURES) + "/conv/" + file);
  REQUIRE(in.good());
  std::string row;
  while (std::getline(in, row)) {
    std::istringstream is(row);
    std::string c, t;
    is >> c >> t;
    if (c != name || t != tensor) continue;
    std::vector<double> v;
    for (double d; is >> d;) v.push_back(d);
    REQUIRE(static_cast<std::int64_t>(v.size()) == shape_numel(like));
    return from_vector(v, like, kFloat64);
  }
  FAIL("fixture " << name << " " << tensor << " not found");
  return Tensor();
}

}  // namespace retort::testing
