// kd_nas's flags (namespace retort::examples::nas): the data, the teacher, the search (space,
// budget, successive halving) and the final training. Three presets, any flag given explicitly
// overriding them:
//   default  10,000 training images (the last 2,000 held out for validation), the whole test
//            split; teacher 5 epochs; 8 candidates (the seed StudentNet + 7 sampled), η = 2,
//            round 0 = 1 epoch of the search split (3 rounds: 8 × 1, 4 × 2, 2 × 4 epochs);
//            winner and StudentNet 10 epochs each on all 10,000 images
//   large    the whole training split (5,000 held out), teacher 10 epochs, 16 candidates, round 0
//            = 1 epoch (4 rounds), final 20 epochs
//   smoke    (--smoke) 600 training images (200 held out), 300 test images, teacher 1 epoch,
//            4 candidates, round 0 = 2 steps, final 1 epoch: seconds, for the ctest smoke test
// Budget defaults: the seed StudentNet's parameter count (267,738) and 10 M MACs per image
// (StudentNet has 1.3 M, TeacherNet 94 M).
#pragma once
#include <cstdint>
#include <string>

#include "kd/nas.h"

namespace retort::examples::nas {

struct Args {
  std::string preset = "default", data = "data-cache/cifar10", device = "cpu", out = "kd_nas_out", csv,
              teacher_ckpt, load_teacher, save_teacher;
  int epochs = 10, teacher_epochs = 5, threads = 2;
  std::int64_t train_limit = 10000, test_limit = -1, val = 2000, batch = 128;
  std::int64_t candidates = 8, eta = 2, round_steps = 0;  // round_steps 0: round_epochs
  double round_epochs = 1.0;
  std::int64_t max_params = 267738, max_macs = 10'000'000;
  double lr = 1e-3, T = 4.0, kd_weight = 0.9, ce_weight = 0.1;
  bool include_student = true;
  std::uint64_t seed = 42;
};

// Reads and checks argv (usage errors exit 2), resolving the preset.
Args parse_args(int argc, char** argv);

}  // namespace retort::examples::nas
