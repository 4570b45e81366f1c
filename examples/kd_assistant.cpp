// kd_assistant: teacher-assistant distillation (Mirzadeh et al. 2020) on CIFAR-10 with plain conv
// nets between the seed StudentNet and TeacherNet (assistant/study.h lists the size ladder):
//   chain   the student distilled directly from the teacher, through one assistant (ta-medium)
//           and through two (ta-medium, then ta-small); every stage the same epochs, so the
//           student's own schedule is identical in every row
//   gap     the student distilled from teachers of increasing size (ta-small … teacher-xl, each
//           trained from labels), against the student trained alone
//   all     both (the default), sharing the teacher and the direct-KD student
// Each study prints a table and writes OUT/<study>.csv and OUT/<study>.png (with gnuplot);
// OUT/sizes.csv lists the nets, OUT/metrics.csv every run's per-epoch metrics. Every stage's loss
// is (1 − λ)·CE + λ·T²·KL (kd/assistant.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "assistant/study.h"
#include "autograd/anomaly.h"
#include "common/flags.h"
#include "common/progress.h"
#include "common/run_flags.h"

using namespace retort::examples;
using namespace retort::examples::assistant;

namespace {

[[noreturn]] void usage(const std::string& why) {
  usage_exit(
      "kd_assistant", why,
      "usage: kd_assistant [chain|gap|all] [--data DIR] [--epochs E] [--teacher-epochs E] [--train-limit N]\n"
      "                    [--test-limit N] [--batch B] [--lr LR] [--T T] [--lambda L] [--seed S] [--threads N]\n"
      "                    [--teacher-seed S] [--teachers A,B,...] [--out DIR] [--csv FILE] [--device cpu|cuda|cuda:N]\n"
      "                    [--smoke] [--detect-anomaly]\n"
      "Defaults: all, --epochs 10 (every assistant and student stage), --teacher-epochs 10, batch 128,\n"
      "Adam lr 1e-3, T 2, lambda 0.25 (stage loss (1 - lambda)·CE + lambda·T²·KL), seed 42, --out kd_assistant_out.\n"
      "--train-limit/--test-limit N: the first N images of the split (default: all of it).\n"
      "--teacher-seed S: seed of the teachers' training (default --seed), so that runs with several\n"
      "--seed values can share the teachers saved in OUT.\n"
      "--teachers: the gap study's teachers, ladder names in increasing size (default\n"
      "ta-small,ta-medium,teacher,teacher-xl; at least 3). Nets: student ta-small ta-medium teacher teacher-xl.\n"
      "--smoke: a check that everything runs, in seconds: --epochs 1 --teacher-epochs 1 --train-limit 256\n"
      "--test-limit 100 --teachers ta-small,ta-medium,teacher unless given.\n"
      "Teachers are saved in OUT and reused by a later invocation with the same settings.\n"
      "--csv FILE appends every table cell as study,row,column,value. Outputs are checked writable first.\n"
      "--detect-anomaly: stop at the first NaN/Inf in an op's output or gradient (docs/reliability.md).\n");
}

Args parse(int argc, char** argv) {
  Args a;
  Flags f(usage);
  bool epochs_given = false, teacher_epochs_given = false, train_given = false, test_given = false;
  f.positional(a.study, "studies");
  for (auto [flag, field] : {std::pair{"--data", &a.data}, {"--device", &a.device}, {"--out", &a.out}, {"--csv", &a.csv}})
    f.value(flag, *field);
  f.custom("--epochs", [&](const std::string& v) { a.epochs = f.to_int("--epochs", v, Flags::positive), epochs_given = true; });
  f.custom("--teacher-epochs", [&](const std::string& v) {
    a.teacher_epochs = f.to_int("--teacher-epochs", v, Flags::positive), teacher_epochs_given = true;
  });
  f.custom("--train-limit", [&](const std::string& v) {
    a.train_limit = f.to_int("--train-limit", v, Flags::positive), train_given = true;
  });
  f.custom("--test-limit", [&](const std::string& v) {
    a.test_limit = f.to_int("--test-limit", v, Flags::positive), test_given = true;
  });
  f.value("--threads", a.threads, Flags::positive);
  f.value("--batch", a.batch, Flags::positive);
  f.value("--lr", a.lr, Flags::positive);
  f.value("--T", a.T, Flags::positive);
  f.value("--lambda", a.lambda, Flags::non_negative);
  f.value("--seed", a.seed);
  std::uint64_t teacher_seed = 0;
  f.value("--teacher-seed", teacher_seed);
  std::string teachers;
  f.value("--teachers", teachers);
  f.set("--smoke", a.smoke);
  f.action("--detect-anomaly", [] { retort::autograd::set_detect_anomaly(true); });
  f.parse(argc, argv);
  if (a.study.empty()) a.study = "all";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--teacher-seed") a.teacher_seed = teacher_seed;
  if (!teachers.empty()) {
    a.teachers.clear();
    for (std::size_t at = 0; at <= teachers.size();) {
      std::size_t comma = std::min(teachers.find(',', at), teachers.size());
      a.teachers.push_back(teachers.substr(at, comma - at));
      at = comma + 1;
    }
  }
  f.check(a.teachers.size() >= 3, "--teachers: at least 3 teachers, got " + std::to_string(a.teachers.size()));
  for (std::size_t i = 0; i < a.teachers.size(); ++i) {
    bool known = false;
    std::size_t rank = 0;
    for (std::size_t k = 0; k < ladder().size(); ++k)
      if (ladder()[k].name == a.teachers[i]) known = true, rank = k;
    f.check(known && a.teachers[i] != "student",
            "--teachers: unknown teacher '" + a.teachers[i] + "' (ta-small, ta-medium, teacher, teacher-xl)");
    for (std::size_t j = 0; j < i; ++j)
      f.check(net(a.teachers[j]).params < ladder()[rank].params,
              "--teachers: '" + a.teachers[i] + "' must come before '" + a.teachers[j] + "' (increasing size)");
  }
  f.check(a.study == "chain" || a.study == "gap" || a.study == "all", "unknown study " + a.study);
  if (a.smoke) {
    if (!epochs_given) a.epochs = 1;
    if (!teacher_epochs_given) a.teacher_epochs = 1;
    if (!train_given) a.train_limit = 256;
    if (!test_given) a.test_limit = 100;
    if (teachers.empty()) a.teachers = {"ta-small", "ta-medium", "teacher"};
  }
  f.check(a.lambda <= 1, "--lambda must be in [0, 1]");
  check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit, .device = a.device,
                      .out = a.out, .csv = a.csv});
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    Context c(a);
    sizes(c);
    std::vector<std::pair<std::string, double>> times;
    const std::vector<std::pair<std::string, void (*)(Context&)>> studies = {{"chain", chain_study}, {"gap", gap_study}};
    for (const auto& [name, fn] : studies) {
      if (a.study != "all" && a.study != name) continue;
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
    std::fprintf(stderr, "\nkd_assistant: %s\n", e.what());
    return 1;
  }
}
