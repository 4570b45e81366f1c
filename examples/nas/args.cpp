// kd_nas's flags. Presets are applied first and explicit flags after them, so a preset never
// overrides what the user typed (flags are recorded as they are read and replayed in order).
#include "nas/args.h"

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/flags.h"
#include "common/kd_experiment.h"
#include "common/run_flags.h"

namespace retort::examples::nas {

namespace {

[[noreturn]] void usage(const std::string& why) {
  usage_exit(
      "kd_nas", why,
      "usage: kd_nas [--smoke | --preset default|large] [--data DIR] [--train-limit N] [--test-limit N]\n"
      "              [--val N] [--teacher-epochs E] [--teacher-ckpt F | --load-teacher F | --save-teacher F]\n"
      "              [--candidates N] [--eta H] [--round-epochs X | --round-steps S] [--max-params P]\n"
      "              [--max-macs M] [--no-student-candidate] [--epochs E] [--batch B] [--lr LR] [--T T]\n"
      "              [--kd-weight W] [--ce-weight W] [--seed S] [--threads N] [--device cpu|cuda|cuda:N]\n"
      "              [--out DIR] [--csv FILE]\n"
      "Searches a plain conv-net student (kd/nas.h: stages 2-3 of 1-2 convs, widths 8-48, kernels 3/5,\n"
      "hidden 0-256) under a parameter and MAC budget by successive halving, each candidate scored by\n"
      "its validation accuracy after a short KD training from the teacher (0.9 KD at T + 0.1 CE, Adam),\n"
      "the validation images held out from the training split; then trains the winner and the seed\n"
      "StudentNet with the same KD schedule on the whole training split and reports test accuracy.\n"
      "Presets: default 10,000 train images (--val 2,000 of them held out), teacher 5 epochs,\n"
      "8 candidates, eta 2, round 0 = 1 epoch of the search split, final 10 epochs; large: the whole\n"
      "train split (--val 5000), teacher 10 epochs, 16 candidates, final 20 epochs; --smoke: 600/300\n"
      "images, teacher 1 epoch, 4 candidates, round 0 = 2 steps, final 1 epoch.\n"
      "--max-params (default 267738, the seed StudentNet's) and --max-macs (default 10000000) bound the\n"
      "candidates; 0 = no limit. --candidates N includes the StudentNet's spec as candidate 0 unless\n"
      "--no-student-candidate. --round-epochs X: round 0's budget in epochs of the search split;\n"
      "--round-steps S: in optimiser steps (overrides it). Round r trains survivors to eta^r times that.\n"
      "--teacher-ckpt F: load the TeacherNet from F when it exists, else train it and save it there.\n"
      "Outputs: OUT/candidates.csv (every candidate's spec, params, MACs, score per round),\n"
      "OUT/nas.csv or --csv (the final comparison), OUT/metrics.csv (per-epoch), plots with gnuplot.\n");
}

struct Preset {
  int epochs, teacher_epochs;
  std::int64_t train_limit, test_limit, val, candidates, round_steps;
  double round_epochs;
};

const std::map<std::string, Preset>& presets() {
  static const std::map<std::string, Preset> p = {
      {"default", {10, 5, 10000, -1, 2000, 8, 0, 1.0}},
      {"large", {20, 10, -1, -1, 5000, 16, 0, 1.0}},
      {"smoke", {1, 1, 600, 300, 200, 4, 2, 1.0}},
  };
  return p;
}

}  // namespace

Args parse_args(int argc, char** argv) {
  Args a;
  // Pass 1: the preset only. Pass 2: every flag, over the preset's values.
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--smoke") a.preset = "smoke";
    if (s == "--preset" && i + 1 < argc) a.preset = argv[i + 1];
  }
  if (!presets().count(a.preset)) usage("--preset '" + a.preset + "': default, large or smoke");
  const Preset& p = presets().at(a.preset);
  a.epochs = p.epochs;
  a.teacher_epochs = p.teacher_epochs;
  a.train_limit = p.train_limit;
  a.test_limit = p.test_limit;
  a.val = p.val;
  a.candidates = p.candidates;
  a.round_steps = p.round_steps;
  a.round_epochs = p.round_epochs;
  bool smoke = false, no_student = false;
  std::string preset_flag;
  Flags f(usage);
  for (auto [flag, field] : {std::pair{"--data", &a.data}, {"--device", &a.device}, {"--out", &a.out},
                             {"--csv", &a.csv}, {"--teacher-ckpt", &a.teacher_ckpt},
                             {"--load-teacher", &a.load_teacher}, {"--save-teacher", &a.save_teacher},
                             {"--preset", &preset_flag}})
    f.value(flag, *field);
  for (auto [flag, field] : {std::pair{"--epochs", &a.epochs}, {"--teacher-epochs", &a.teacher_epochs},
                             {"--threads", &a.threads}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--train-limit", &a.train_limit}, {"--test-limit", &a.test_limit},
                             {"--val", &a.val}, {"--batch", &a.batch}, {"--candidates", &a.candidates},
                             {"--eta", &a.eta}, {"--round-steps", &a.round_steps}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--max-params", &a.max_params}, {"--max-macs", &a.max_macs}})
    f.value(flag, *field, Flags::non_negative);
  for (auto [flag, field] : {std::pair{"--lr", &a.lr}, {"--T", &a.T}, {"--round-epochs", &a.round_epochs}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--kd-weight", &a.kd_weight}, {"--ce-weight", &a.ce_weight}})
    f.value(flag, *field, Flags::non_negative);
  f.value("--seed", a.seed);
  f.set("--smoke", smoke);
  f.set("--no-student-candidate", no_student);
  f.parse(argc, argv);
  a.include_student = !no_student;
  f.check(!(smoke && !preset_flag.empty()), "--smoke and --preset: give one");
  f.check(a.eta >= 2, "--eta " + std::to_string(a.eta) + " keeps every candidate (need >= 2)");
  f.check(a.candidates >= 2, "--candidates " + std::to_string(a.candidates) + ": a search needs at least 2");
  f.check(a.kd_weight + a.ce_weight > 0, "--kd-weight and --ce-weight are both 0: nothing to train on");
  const std::int64_t train_size = a.train_limit > 0 ? a.train_limit : kCifar10TrainSize;
  f.check(a.val < train_size, "--val " + std::to_string(a.val) + " leaves no training images (the train split has " +
                                  std::to_string(train_size) + ")");
  f.check(a.batch <= train_size - a.val, "--batch " + std::to_string(a.batch) +
                                             " is larger than the search's train split (" +
                                             std::to_string(train_size - a.val) + " images)");
  f.check(a.teacher_ckpt.empty() || (a.load_teacher.empty() && a.save_teacher.empty()),
          "--teacher-ckpt replaces --load-teacher/--save-teacher; give one or the other");
  if (!a.teacher_ckpt.empty()) {
    if (std::filesystem::exists(a.teacher_ckpt)) a.load_teacher = a.teacher_ckpt;
    else a.save_teacher = a.teacher_ckpt;
  }
  // The search's own split (train minus --val) was checked above; the whole split is checked again here.
  check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit, .device = a.device,
                      .load_teacher = a.load_teacher, .out = a.out, .csv = a.csv.empty() ? a.out + "/nas.csv" : a.csv});
  f.output_file("--save-teacher", a.save_teacher);
  return a;
}

}  // namespace retort::examples::nas
