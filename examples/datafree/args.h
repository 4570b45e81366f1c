// kd_datafree's flags (namespace retort::examples::datafree).
#pragma once
#include <cstdint>
#include <string>

#include "datafree/synth.h"

namespace retort::examples::datafree {

struct Args {
  std::string method = "inversion", data = "data-cache/cifar10", device = "cpu", out = "kd_datafree_out", csv,
              teacher_ckpt, teacher = "resnet8", student = "StudentNet", baseline = "kd";
  int teacher_epochs = 5, baseline_epochs = -1, threads = 2;  // baseline_epochs −1: --epochs
  std::int64_t train_limit = -1, test_limit = -1;
  bool smoke = false;
  Options o;  // the data-free phase's schedule and knobs (epochs, batch, lr, T, seed, ...)

  bool runs(const std::string& m) const { return method == m || method == "all"; }
};

// Reads and checks argv (usage errors exit 2). --smoke replaces the schedule with a tiny one.
Args parse_args(int argc, char** argv);

}  // namespace retort::examples::datafree
