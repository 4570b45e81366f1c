// Flag parsing for the examples. std::sto* accept a numeric prefix ("12abc" → 12) and throw on
// garbage; both are turned into usage errors here by requiring the whole text to be consumed.
#include "common/flags.h"

#include <cstdlib>
#include <stdexcept>

namespace retort::examples {

namespace {

template <class T, class Conv>
bool convert(const std::string& text, T& out, Conv conv) {
  try {
    std::size_t used = 0;
    out = static_cast<T>(conv(text, &used));
    return used == text.size();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

void Flags::fail(const std::string& why) const {
  usage_(why);
  std::exit(2);  // usage_ is documented to exit; never fall through into a half-parsed run
}

int Flags::to_int(const std::string& flag, const std::string& text) const {
  int v = 0;
  if (!convert(text, v, [](const std::string& s, std::size_t* p) { return std::stoi(s, p); }))
    fail(flag + ": '" + text + "' is not an integer");
  return v;
}

double Flags::to_double(const std::string& flag, const std::string& text) const {
  double v = 0;
  if (!convert(text, v, [](const std::string& s, std::size_t* p) { return std::stod(s, p); }))
    fail(flag + ": '" + text + "' is not a number");
  return v;
}

void Flags::value(const std::string& flag, std::string& out) {
  with_value_[flag] = [&out](const std::string& v) { out = v; };
}
void Flags::value(const std::string& flag, int& out) {
  with_value_[flag] = [this, flag, &out](const std::string& v) { out = to_int(flag, v); };
}
void Flags::value(const std::string& flag, std::int64_t& out) {
  with_value_[flag] = [this, flag, &out](const std::string& v) {
    if (!convert(v, out, [](const std::string& s, std::size_t* p) { return std::stoll(s, p); }))
      fail(flag + ": '" + v + "' is not an integer");
  };
}
void Flags::value(const std::string& flag, std::uint64_t& out) {
  with_value_[flag] = [this, flag, &out](const std::string& v) {
    if (v.empty() || v[0] == '-' ||
        !convert(v, out, [](const std::string& s, std::size_t* p) { return std::stoull(s, p); }))
      fail(flag + ": '" + v + "' is not a non-negative integer");
  };
}
void Flags::value(const std::string& flag, double& out) {
  with_value_[flag] = [this, flag, &out](const std::string& v) { out = to_double(flag, v); };
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

}  // namespace retort::examples
