// libFuzzer target: the examples' flag parser (examples/common/flags.h). The input is split at
// newlines into argv[1..]; the flags bound are one of every kind the examples use. Parsing must
// either fill the options or call the usage function (here it throws, so a rejected command line
// ends the run instead of exiting the process).
#include <string>
#include <vector>

#include "common/flags.h"

namespace {

struct UsageCalled {
  std::string why;
};

struct Options {
  std::string data, study;
  int epochs = 0;
  std::int64_t limit = 0;
  std::uint64_t seed = 0;
  double lr = 0;
  bool augment = false, full = false;
  int custom_int = 0;
  double custom_double = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"fuzz_flags"};
  std::string cur;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  if (!cur.empty()) args.push_back(cur);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  Options o;
  retort::examples::Flags f([](const std::string& why) { throw UsageCalled{why}; });
  f.value("--data", o.data);
  f.value("--epochs", o.epochs);
  f.value("--limit", o.limit);
  f.value("--seed", o.seed);
  f.value("--lr", o.lr);
  f.set("--augment", o.augment);
  f.action("--full", [&o] { o.full = true; });
  f.custom("--both", [&](const std::string& v) {
    o.custom_int = f.to_int("--both", v);
    o.custom_double = f.to_double("--both", v);
  });
  f.positional(o.study, "studies");
  try {
    f.parse(static_cast<int>(args.size()), argv.data());
  } catch (const UsageCalled& u) {
    if (u.why.empty()) __builtin_trap();  // a rejection always says why
  }
  return 0;
}
