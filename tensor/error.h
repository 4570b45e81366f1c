// Errors. Every failure a user can cause is a retort::Error whose message names the op and,
// where shapes are involved, both shapes: "conv2d: input [2,3,8,8] and weight [4,2,3,3] ...".
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace retort {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void stream_all(std::ostringstream&) {}
template <class A, class... R>
void stream_all(std::ostringstream& os, const A& a, const R&... r) {
  os << a;
  stream_all(os, r...);
}
}  // namespace detail

// Builds a message from any streamable pieces and throws retort::Error.
template <class... A>
[[noreturn]] void fail(const A&... parts) {
  std::ostringstream os;
  detail::stream_all(os, parts...);
  throw Error(os.str());
}

}  // namespace retort

// RETORT_CHECK(cond, "op: ", pieces...) throws retort::Error with the pieces when cond is false.
#define RETORT_CHECK(cond, ...)          \
  do {                                   \
    if (!(cond)) ::retort::fail(__VA_ARGS__); \
  } while (0)
