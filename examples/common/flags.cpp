// Flag parsing for the examples. Numbers go through std::from_chars, which takes no leading
// blanks and no '+', and must consume the whole text: "12abc", " 5", " -1" and "" are usage
// errors instead of 12, 5, 2^64 − 1 and 0 (atoi, stoull). Doubles must be finite.
#include "common/flags.h"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "tensor/atomic_file.h"

namespace retort::examples {

namespace {

template <class T>
bool convert(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && !text.empty();
}

template <class T>
bool in_range(T v, Flags::Range r) {
  return r == Flags::any || (r == Flags::positive ? v > 0 : v >= 0);
}

const char* range_words(Flags::Range r, bool integer) {
  if (r == Flags::positive) return integer ? "a positive integer" : "a positive number";
  if (r == Flags::non_negative) return integer ? "a non-negative integer" : "a non-negative number";
  return integer ? "an integer" : "a finite number";
}

template <class T>
T integer(const std::string& flag, const std::string& text, Flags::Range r, const std::function<void(const std::string&)>& fail) {
  T v{};
  if (!convert(text, v) || !in_range(v, r)) fail(flag + ": '" + text + "' is not " + range_words(r, true));
  return v;
}

}  // namespace

[[noreturn]] void usage_exit(const std::string& program, const std::string& why, const std::string& text) {
  if (why == "help") {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    std::exit(0);
  }
  std::fprintf(stderr, "%s: %s\n%s", program.c_str(), why.c_str(), text.c_str());
  std::exit(2);
}

void Flags::fail(const std::string& why) const {
  usage_(why);
  std::exit(2);  // usage_ is documented to exit; never fall through into a half-parsed run
}

int Flags::to_int(const std::string& flag, const std::string& text, Range range) const {
  return integer<int>(flag, text, range, [this](const std::string& w) { fail(w); });
}

double Flags::to_double(const std::string& flag, const std::string& text, Range range) const {
  double v = 0;
  if (!convert(text, v) || !std::isfinite(v) || !in_range(v, range))
    fail(flag + ": '" + text + "' is not " + range_words(range, false));
  return v;
}

void Flags::value(const std::string& flag, std::string& out) {
  with_value_[flag] = [&out](const std::string& v) { out = v; };
}
void Flags::value(const std::string& flag, int& out, Range range) {
  with_value_[flag] = [this, flag, &out, range](const std::string& v) { out = to_int(flag, v, range); };
}
void Flags::value(const std::string& flag, std::int64_t& out, Range range) {
  with_value_[flag] = [this, flag, &out, range](const std::string& v) {
    out = integer<std::int64_t>(flag, v, range, [this](const std::string& w) { fail(w); });
  };
}
void Flags::value(const std::string& flag, std::uint64_t& out) {
  with_value_[flag] = [this, flag, &out](const std::string& v) {
    out = integer<std::uint64_t>(flag, v, any, [this, flag, v](const std::string&) {
      fail(flag + ": '" + v + "' is not a non-negative integer below 2^64");
    });
  };
}
void Flags::value(const std::string& flag, double& out, Range range) {
  with_value_[flag] = [this, flag, &out, range](const std::string& v) { out = to_double(flag, v, range); };
}
void Flags::custom(const std::string& flag, std::function<void(const std::string&)> apply) {
  with_value_[flag] = std::move(apply);
}
void Flags::set(const std::string& flag, bool& out) {
  switches_[flag] = [&out] { out = true; };
}
void Flags::action(const std::string& flag, std::function<void()> apply) { switches_[flag] = std::move(apply); }
void Flags::positional(std::string& out, std::string plural) {
  positional_ = &out;
  positional_what_ = std::move(plural);
}

void Flags::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h") fail("help");
    if (auto s = switches_.find(k); s != switches_.end()) {
      s->second();
    } else if (auto w = with_value_.find(k); w != with_value_.end()) {
      if (i + 1 >= argc) fail("missing value for " + k);
      w->second(argv[++i]);
    } else if (k.rfind("-", 0) == 0 || !positional_) {
      fail("unknown flag " + k);
    } else if (positional_->empty()) {
      *positional_ = k;
    } else {
      fail("two " + positional_what_ + " given: " + *positional_ + " and " + k);
    }
  }
}

void Flags::check(bool ok, const std::string& why) const {
  if (!ok) fail(why);
}

void Flags::output_dir(const std::string& flag, const std::string& dir) const {
  if (dir.empty()) return;
  try {
    check_writable_dir(dir, flag);
  } catch (const std::exception& e) {
    fail(std::string(e.what()) + " (checked before starting, so no work is lost)");
  }
}

void Flags::output_file(const std::string& flag, const std::string& path) const {
  if (path.empty()) return;
  try {
    check_writable_file(path, flag);
  } catch (const std::exception& e) {
    fail(std::string(e.what()) + " (checked before starting, so no work is lost)");
  }
}

void Flags::input_file(const std::string& flag, const std::string& path) const {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(flag + ": '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(flag + ": '" + path + "' is not a regular file");
}

}  // namespace retort::examples
