// kd_studies: the seed experiment's nine follow-up studies on CIFAR-10, each runnable
// by name, each printing a table and writing OUT/<study>.csv (and OUT/<study>.png when gnuplot
// is installed):
//   temperature      KD student at T ∈ {1, 2, 5, 10, 20} (0.25·T²·KL + 0.75·CE)
//   weights          KL/CE weights 0.1/0.9, 0.25/0.75, 0.5/0.5, 0.9/0.1 (T = 2)
//   teacher-quality  teachers trained 2/5/10/20 epochs, one KD student each
//   small-student    a one-conv-layer student (studies/model_studies.cpp) vs StudentNet
//   kl-vs-mse        KL on softened logits vs Ba & Caruana's logit MSE
//   augmentation     with and without random crop + flip (teacher-logit cache off with it)
//   epochs           distillation epochs 5/10/20
//   size-speed       params, MACs, inference and training images/s
//   transfer         classes 8, 9 held out; linear probe on frozen penultimate features
//   all              every study, sharing teachers and runs
// Teachers are saved in OUT and reused by later invocations with the same OUT; runs needed by
// several studies are trained once per invocation (studies/study.h).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "autograd/anomaly.h"
#include "common/flags.h"
#include "common/progress.h"
#include "common/run_flags.h"
#include "studies/study.h"

using namespace retort::examples;
using namespace retort::examples::studies;

namespace {

// Study order of "all": the longest student runs first (epochs), so that later studies read
// their runs from the memo.
const std::vector<std::pair<std::string, void (*)(Context&)>>& study_list() {
  static const std::vector<std::pair<std::string, void (*)(Context&)>> s = {
      {"epochs", epochs},           {"temperature", temperature},         {"weights", weights},
      {"kl-vs-mse", kl_vs_mse},     {"augmentation", augmentation},       {"teacher-quality", teacher_quality},
      {"small-student", small_student}, {"transfer", transfer},           {"size-speed", size_speed},
  };
  return s;
}

[[noreturn]] void usage(const std::string& why) {
  std::string names;
  for (const auto& [n, f] : study_list()) names += n + "|";
  usage_exit(
      "kd_studies", why,
      "usage: kd_studies STUDY [--data DIR] [--epochs E] [--teacher-epochs E] [--train-limit N]\n"
      "                  [--test-limit N] [--batch B] [--lr LR] [--seed S] [--threads N] [--out DIR] [--csv FILE]\n"
      "                  [--timing S] [--device cpu|cuda|cuda:N] [--checkpoint-dir DIR] [--checkpoint-every N]\n"
      "                  [--resume] [--detect-anomaly]\n"
      "STUDY: " + names + "all\n"
      "Defaults: --epochs 10 (students), --teacher-epochs 10, batch 128, Adam lr 1e-3, --out kd_studies_out.\n"
      "Epoch lists (epochs 5/10/20, teacher-quality 2/5/10/20) are used as given when --epochs\n"
      "(resp. --teacher-epochs) is >= 10, else scaled by E/10 (rounded, >= 1, duplicates dropped).\n"
      "Each study writes OUT/<study>.csv (and .png with gnuplot); --csv FILE also appends every\n"
      "table cell as study,row,column,value; OUT/metrics.csv has every run's per-epoch metrics.\n"
      "--train-limit/--test-limit N: the first N images of the split (default: all of it).\n"
      "--timing S: seconds of each size-speed measurement (default 2).\n"
      "Outputs (--out, --csv) are checked writable before training starts.\n"
      "--detect-anomaly: stop at the first NaN/Inf in an op's output or gradient, naming the op and its\n"
      "shapes (autograd's anomaly mode for the whole run; slower; see docs/reliability.md).\n" +
          std::string(kCheckpointUsage));
}

Args parse(int argc, char** argv) {
  Args a;
  Flags f(usage);
  f.positional(a.study, "studies");
  for (auto [flag, field] : {std::pair{"--data", &a.data}, {"--device", &a.device}, {"--out", &a.out}, {"--csv", &a.csv}})
    f.value(flag, *field);
  for (auto [flag, field] : {std::pair{"--epochs", &a.epochs}, {"--teacher-epochs", &a.teacher_epochs},
                             {"--threads", &a.threads}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--train-limit", &a.train_limit}, {"--test-limit", &a.test_limit},
                             {"--batch", &a.batch}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--lr", &a.lr}, {"--timing", &a.timing}}) f.value(flag, *field, Flags::positive);
  f.value("--seed", a.seed);
  add_checkpoint_flags(f, a.checkpoint);
  f.action("--detect-anomaly", [] { retort::autograd::set_detect_anomaly(true); });
  f.parse(argc, argv);
  if (a.study.empty()) usage("no study given");
  f.check(a.checkpoint.every_batches >= 0, "--checkpoint-every must be >= 0");
  f.check(!a.checkpoint.resume || !a.checkpoint.dir.empty(), "--resume needs --checkpoint-dir");
  bool known = a.study == "all";
  for (const auto& s : study_list()) known = known || a.study == s.first;
  f.check(known, "unknown study " + a.study);
  check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit, .device = a.device,
                      .out = a.out, .csv = a.csv});
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  std::vector<std::pair<std::string, void (*)(Context&)>> todo;
  for (const auto& s : study_list())
    if (a.study == "all" || a.study == s.first) todo.push_back(s);
  try {
    prepare_checkpoint_dir(a.checkpoint);
    Context c(a);
    std::vector<std::pair<std::string, double>> times;
    for (const auto& [name, fn] : todo) {
      std::printf("\n==== study %s\n", name.c_str());
      auto t0 = std::chrono::steady_clock::now();
      fn(c);
      times.push_back({name, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
    }
    c.write_epoch_rows();
    std::printf("\nper-epoch metrics: %s/metrics.csv\nwall time:", a.out.c_str());
    for (const auto& [name, secs] : times) std::printf(" %s %s", name.c_str(), clock_str(secs).c_str());
    std::printf("\n");
    return plot_failures() > 0 ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nkd_studies: %s\n", e.what());
    return 1;
  }
}
