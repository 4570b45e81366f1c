// Command-line flags for the CIFAR-10 examples (namespace retort::examples): each program binds
// its flags to the fields of its own options struct, then parse() reads argv. Values are
// converted with checks, so a bad number is a usage error ("--epochs: 'abc' is not an integer")
// instead of an uncaught exception, and every problem goes through the program's usage function.
//
//   Flags f(usage);                      // usage(why) prints help and exits; never returns
//   f.value("--epochs", a.epochs);      // int, std::int64_t, std::uint64_t, double, std::string
//   f.set("--augment", a.augment);      // a switch: sets the bool to true
//   f.positional(a.study, "studies");   // at most one bare word (optional)
//   f.parse(argc, argv);                // --help / -h call usage("help")
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace retort::examples {

class Flags {
 public:
  using Usage = std::function<void(const std::string& why)>;  // must exit
  explicit Flags(Usage usage) : usage_(std::move(usage)) {}

  void value(const std::string& flag, std::string& out);
  void value(const std::string& flag, int& out);
  void value(const std::string& flag, std::int64_t& out);
  void value(const std::string& flag, std::uint64_t& out);
  void value(const std::string& flag, double& out);
  // A flag with a value handled by the caller (e.g. --epochs setting two fields).
  void custom(const std::string& flag, std::function<void(const std::string& value)> apply);
  void set(const std::string& flag, bool& out);
  // A switch with its own action (e.g. --full).
  void action(const std::string& flag, std::function<void()> apply);
  void positional(std::string& out, std::string plural);  // "two <plural> given: a and b"

  void parse(int argc, char** argv);

  // Checked conversions, for custom flags: usage("<flag>: '<text>' is not ...") on failure.
  int to_int(const std::string& flag, const std::string& text) const;
  double to_double(const std::string& flag, const std::string& text) const;

 private:
  [[noreturn]] void fail(const std::string& why) const;
  Usage usage_;
  std::map<std::string, std::function<void(const std::string&)>> with_value_;
  std::map<std::string, std::function<void()>> switches_;
  std::string* positional_ = nullptr;
  std::string positional_what_;
};

}  // namespace retort::examples
