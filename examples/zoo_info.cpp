// zoo_info: the model zoo at a glance (nn/zoo.h).
//   zoo_info                  one line per model: NAME PARAMS MACS (plain integers; PARAMS for
//                             --classes classes, default 100; MACS per 3×32×32 image, nn/macs.h)
//   zoo_info --model NAME     that model's line, its layers as PyTorch prints them, and its
//                             feature taps (RepDistiller's is_feat list, then the preact list)
#include <cstdio>
#include <iostream>
#include <string>

#include "common/flags.h"
#include "nn/macs.h"
#include "nn/zoo.h"
#include "tensor/threads.h"

using namespace retort;

namespace {

const char* kUsage =
    "usage: zoo_info [--model NAME] [--classes N]\n"
    "  without --model: one line per zoo model, NAME PARAMS MACS (MACs per 3x32x32 image)\n"
    "  --model NAME   the model's layers and feature-tap paths (names in any case)\n"
    "  --classes N    classifier outputs (default 100)\n";

[[noreturn]] void usage(const std::string& why) { examples::usage_exit("zoo_info", why, kUsage); }

void print_line(const std::string& name, nn::ZooNet& model) {
  std::printf("%s %lld %lld\n", name.c_str(), static_cast<long long>(model.num_parameters()),
              static_cast<long long>(nn::count_macs(model, {3, 32, 32})));
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_name;
  std::int64_t classes = 100;
  examples::Flags f(usage);
  f.value("--model", model_name);
  f.value("--classes", classes, examples::Flags::positive);
  f.parse(argc, argv);
  // One image per model: a second OpenMP thread only spins, and on a busy machine its spinning
  // made the listing take seconds instead of a fraction of one.
  set_num_threads(1);
  try {
    if (model_name.empty()) {
      for (const auto& name : nn::zoo_model_names()) print_line(name, *nn::create_model(name, classes));
      return 0;
    }
    std::string name = nn::canonical_model_name(model_name);
    auto model = nn::create_model(name, classes);
    print_line(name, *model);
    std::cout << model->repr() << "\n";
    for (bool preact : {false, true}) {
      std::printf("feature taps%s:", preact ? " (preact)" : "");
      for (const auto& t : model->feature_taps(preact)) std::printf(" %s", t.c_str());
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    usage(e.what());
  }
  return 0;
}
