// Command-line flags for the examples (namespace retort::examples): each program binds its flags
// to the fields of its own options struct, then parse() reads argv. Values are converted with
// checks — the whole text must be a number (no leading blanks, no trailing garbage, no sign on an
// unsigned value, no inf or nan), within the flag's range — so a bad value is a usage error
// naming the flag ("--batch: '0' is not a positive integer") instead of a truncated number, a
// wrapped-around seed or an uncaught exception, and every problem goes through the program's
// usage function.
//
//   Flags f(usage);                              // usage(why) exits; see usage_exit()
//   f.value("--epochs", a.epochs, Flags::positive);
//   f.value("--seed", a.seed);                   // int, std::int64_t, std::uint64_t, double, std::string
//   f.set("--augment", a.augment);               // a switch: sets the bool to true
//   f.positional(a.study, "studies");            // at most one bare word (optional)
//   f.parse(argc, argv);                         // --help / -h call usage("help")
//   f.check(a.batch <= 50000, "...");            // cross-flag rules, after parse
//   f.output_dir("--out", a.out);                // outputs checked writable before any work
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace retort::examples {

// The body of every example's usage function: for why == "help" (--help, -h) prints `text` to
// stdout and exits 0; otherwise prints "<program>: <why>" and `text` to stderr and exits 2.
[[noreturn]] void usage_exit(const std::string& program, const std::string& why, const std::string& text);

// Threads beyond this are refused as a typo rather than handed to OpenMP.
inline constexpr int kMaxThreads = 1024;

class Flags {
 public:
  using Usage = std::function<void(const std::string& why)>;  // must exit
  enum Range { any, positive, non_negative };
  explicit Flags(Usage usage) : usage_(std::move(usage)) {}

  void value(const std::string& flag, std::string& out);
  void value(const std::string& flag, int& out, Range range = any);
  void value(const std::string& flag, std::int64_t& out, Range range = any);
  void value(const std::string& flag, std::uint64_t& out);
  void value(const std::string& flag, double& out, Range range = any);  // always finite
  // A flag with a value handled by the caller (e.g. --epochs setting two fields).
  void custom(const std::string& flag, std::function<void(const std::string& value)> apply);
  void set(const std::string& flag, bool& out);
  // A switch with its own action (e.g. --full).
  void action(const std::string& flag, std::function<void()> apply);
  void positional(std::string& out, std::string plural);  // "two <plural> given: a and b"

  void parse(int argc, char** argv);

  // Checked conversions, for custom flags: usage("<flag>: '<text>' is not ...") on failure.
  int to_int(const std::string& flag, const std::string& text, Range range = any) const;
  double to_double(const std::string& flag, const std::string& text, Range range = any) const;

  // After parse: usage(why) unless ok.
  void check(bool ok, const std::string& why) const;
  // After parse, before any work: the output directory exists or is created, and a probe file can
  // be created in it and removed; a file's directory likewise, and the file is not a directory or
  // device. usage("<flag> <path>: <why>") otherwise. An empty path (flag not given) is skipped.
  void output_dir(const std::string& flag, const std::string& dir) const;
  void output_file(const std::string& flag, const std::string& path) const;
  // An input file that must exist and be a regular file (skipped when empty).
  void input_file(const std::string& flag, const std::string& path) const;

 private:
  [[noreturn]] void fail(const std::string& why) const;
  Usage usage_;
  std::map<std::string, std::function<void(const std::string&)>> with_value_;
  std::map<std::string, std::function<void()>> switches_;
  std::string* positional_ = nullptr;
  std::string positional_what_;
};

}  // namespace retort::examples
