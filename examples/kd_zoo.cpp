// kd_zoo: trains the seed StudentNet from the seed TeacherNet on CIFAR-10 with any of the
// library's distillation losses by name, alone or combined with weights:
//   kd_zoo --loss kd                 CE 0.1 + KD 0.9 (the reference weights)
//   kd_zoo --loss ce:0.75,kd:0.25    explicit weights
//   kd_zoo --loss ce,at:1000         CE + attention transfer
//   kd_zoo --loss all                every loss in turn (CE + that loss), one table
//   kd_zoo --loss all --costs        what each loss costs per batch (kd/cost.h), no training
// The teacher is trained once (or loaded) and shared by every run. Its logits and tapped
// features are computed once for the whole training set and cached (exact: no augmentation
// here); a tap whose cache would pass 2 GiB is computed by a teacher forward per batch instead.
// Every run starts from the same seed and sees the same batches. See zoo/losses.h for the taps.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>

#include "autograd/anomaly.h"
#include "common/distributed.h"
#include "common/flags.h"
#include "common/kd_experiment.h"
#include "common/progress.h"
#include "common/report.h"
#include "nn/models.h"
#include "nn/serialization.h"
#include "retort.h"
#include "zoo/losses.h"

using namespace retort;
using namespace retort::examples;

namespace {

struct Args {
  std::string device = "cpu", loss = "kd", data = "data-cache/cifar10", load_teacher, save_teacher, csv, out = "kd_zoo_out";
  int epochs = 10, teacher_epochs = 5, threads = 2;
  std::int64_t train_limit = -1, test_limit = -1, batch = 128, crd_k = 4096;
  double lr = 1e-3;
  std::uint64_t seed = 42;
  bool costs = false;
  bool distributed = false, scale_batch = false;  // common/distributed.h
  CheckpointOptions checkpoint;
};

[[noreturn]] void usage(const std::string& why) {
  usage_exit(
      "kd_zoo", why,
      "usage: kd_zoo [--loss SPEC|all] [--data DIR] [--epochs E] [--teacher-epochs E] [--load-teacher F]\n"
      "              [--save-teacher F] [--train-limit N] [--test-limit N] [--batch B] [--lr LR] [--seed S]\n"
      "              [--threads N] [--crd-k K] [--csv FILE] [--out DIR] [--device cpu|cuda|cuda:N] [--costs]\n"
      "              [--checkpoint-dir DIR] [--checkpoint-every N] [--resume] [--detect-anomaly]\n"
      "              [--distributed [--scale-batch]]\n"
      "SPEC: comma-separated NAME[:WEIGHT]; a missing weight is the reference one below; CE is added\n"
      "with the first loss's reference CE weight unless listed ('ce:0,kd' = KD alone). 'all': each\n"
      "loss in turn as CE + that loss. Defaults: --loss kd, students 10 epochs, teacher 5, Adam lr\n"
      "1e-3, batch 128, --crd-k 4096 (RepDistiller: 16384; CPU-sized here). --csv: the results table\n"
      "(default OUT/zoo.csv); per-epoch rows go to OUT/metrics.csv. --costs: no training; each loss's\n"
      "analytic FLOPs/bytes (where kd/cost.h has a model) and measured forward/backward time and\n"
      "peak memory for one batch of --batch random images on the untrained seed nets (CPU).\n"
      "--train-limit/--test-limit N: the first N images of the split (default: all of it).\n"
      "--teacher-epochs 0 needs --load-teacher F. Outputs are checked writable before training.\n"
      "--distributed: data-parallel over an MPI job (mpirun -np N kd_zoo --distributed --threads T ...);\n"
      "--batch stays the global batch unless --scale-batch (docs/distributed.md). CRD's memory bank is\n"
      "per rank (each rank updates it from its own samples).\n"
      "--detect-anomaly: stop at the first NaN/Inf in an op's output or gradient, naming the op and its\n"
      "shapes (autograd's anomaly mode for the whole run; slower; see docs/reliability.md).\n" +
          std::string(kCheckpointUsage) + zoo::loss_help());
}

Args parse(int argc, char** argv) {
  Args a;
  Flags f(usage);
  for (auto [flag, field] : {std::pair{"--loss", &a.loss}, {"--data", &a.data}, {"--load-teacher", &a.load_teacher},
                             {"--save-teacher", &a.save_teacher}, {"--device", &a.device}, {"--csv", &a.csv},
                             {"--out", &a.out}})
    f.value(flag, *field);
  f.value("--epochs", a.epochs, Flags::positive);
  f.value("--teacher-epochs", a.teacher_epochs, Flags::non_negative);
  f.value("--threads", a.threads, Flags::positive);
  f.value("--train-limit", a.train_limit, Flags::positive);
  f.value("--test-limit", a.test_limit, Flags::positive);
  f.value("--batch", a.batch, Flags::positive);
  f.value("--crd-k", a.crd_k, Flags::positive);
  f.value("--lr", a.lr, Flags::positive);
  f.value("--seed", a.seed);
  f.set("--costs", a.costs);
  f.set("--distributed", a.distributed);
  f.set("--scale-batch", a.scale_batch);
  add_checkpoint_flags(f, a.checkpoint);
  f.action("--detect-anomaly", [] { autograd::set_detect_anomaly(true); });
  f.parse(argc, argv);
  f.check(!a.scale_batch || a.distributed, "--scale-batch needs --distributed");
  f.check(!(a.costs && a.distributed), "--costs measures one process; leave out --distributed");
  f.check(a.checkpoint.every_batches >= 0, "--checkpoint-every must be >= 0");
  f.check(!a.checkpoint.resume || !a.checkpoint.dir.empty(), "--resume needs --checkpoint-dir");
  // Relation losses compare the samples of a batch with each other: one sample has no pairs.
  f.check(a.batch >= 2, "--batch " + std::to_string(a.batch) + " is too small (the relation losses need >= 2)");
  f.check(a.threads <= kMaxThreads,
          "--threads " + std::to_string(a.threads) + " is more than " + std::to_string(kMaxThreads));
  try {
    if (a.loss != "all") zoo::parse_losses(a.loss);
    parse_device(a.device);
  } catch (const std::exception& e) {
    std::string why = e.what();
    if (why.rfind("kd_zoo: ", 0) == 0) why = why.substr(8);
    usage(why);
  }
  if (a.costs) return a;  // no data, no training, no files
  const std::int64_t train_size = a.train_limit > 0 ? a.train_limit : kCifar10TrainSize;
  f.check(a.batch <= train_size, "--batch " + std::to_string(a.batch) + " is larger than the train split (" +
                                     std::to_string(train_size) + " images)");
  f.check(a.teacher_epochs > 0 || !a.load_teacher.empty(),
          "--teacher-epochs 0 trains no teacher: give --load-teacher F, or at least 1 epoch");
  f.input_file("--load-teacher", a.load_teacher);
  f.output_dir("--out", a.out);
  f.output_file("--csv", a.csv.empty() ? a.out + "/zoo.csv" : a.csv);
  f.output_file("--save-teacher", a.save_teacher);
  return a;
}

// The teacher taps worth caching: all of them, except those that would pass 2 GiB (largest first).
std::vector<std::string> cacheable(nn::Module& teacher, std::vector<std::string> taps, std::int64_t n) {
  std::vector<std::pair<std::int64_t, std::string>> sized;
  {
    NoGradGuard ng;
    std::vector<nn::FeatureTap> tapped;
    for (const auto& t : taps) tapped.push_back(teacher.tap(t));
    teacher(zeros({1, 3, 32, 32}, kFloat32, device_of(teacher)));
    for (auto& t : tapped) sized.push_back({t.output().numel() * n * 4, t.path()});
  }
  std::sort(sized.begin(), sized.end());
  std::vector<std::string> keep;
  std::int64_t total = 0;
  for (const auto& [bytes, path] : sized)
    if ((total += bytes) <= (std::int64_t{2} << 30)) keep.push_back(path);
  return keep;
}

// --costs: Distiller::term_costs of every run's terms for one batch (the cost depends on the
// shapes only, so random images and untrained nets serve); CE is listed once.
void print_costs(const Args& a, const std::vector<std::vector<zoo::WeightedLoss>>& runs) {
  manual_seed(a.seed);
  auto teacher = std::make_shared<nn::TeacherNet>();
  const std::int64_t n = 50000;  // CIFAR-10's training set (CRD's memory banks)
  const zoo::Setup setup{randint(0, 10, {n}), 1, a.crd_k, a.seed};
  data::Batch b{randn({a.batch, 3, 32, 32}), randint(0, 10, {a.batch}), narrow(randperm(n), 0, 0, a.batch)};
  const std::vector<std::int64_t> indices = b.indices.contiguous().to_vector<std::int64_t>();
  std::vector<kd::TermCost> rows;
  for (const auto& r : runs) {
    auto student = std::make_shared<nn::StudentNet>();
    Objective obj = zoo::make_objective(r, setup);
    kd::Distiller d(student, teacher);
    for (const auto& p : obj.student_taps) d.add_student_tap(p);
    for (const auto& p : obj.teacher_taps) d.add_teacher_tap(p);
    for (auto& t : obj.terms) d.add_term(t);
    if (obj.on_batch) obj.on_batch(b);
    for (const auto& row : d.term_costs(b.inputs, b.targets, indices, 3))
      if (row.name != "ce" || std::none_of(rows.begin(), rows.end(), [](auto& x) { return x.name == "ce"; }))
        rows.push_back(row);
  }
  std::printf("kd_zoo --costs: batch %lld, StudentNet <- TeacherNet, %d threads (fastest of 3)\n",
              static_cast<long long>(a.batch), a.threads);
  kd::print_term_costs(std::cout, rows);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    if (a.distributed) {
      start_distributed(a.scale_batch);
      a.device = rank_device(a.device);
    }
    return run_program([&]() -> int {
      std::vector<std::vector<zoo::WeightedLoss>> runs;
      if (a.loss == "all")
        for (const auto& l : zoo::loss_table()) runs.push_back(zoo::parse_losses(l.name));
      else
        runs.push_back(zoo::parse_losses(a.loss));
      set_num_threads(a.threads);
      if (a.costs) {
        print_costs(a, runs);
        return 0;
      }
      std::filesystem::create_directories(a.out);
      prepare_checkpoint_dir(a.checkpoint);
      CifarData d = load_data({a.data, a.train_limit, a.test_limit, parse_device(a.device)});
      auto loader = make_loader(d, a.batch, a.seed, /*augment=*/false);
      const std::int64_t n = d.train_labels.numel();
      std::string teacher_from =
          a.load_teacher.empty() ? std::to_string(a.teacher_epochs) + " epochs" : "from " + a.load_teacher;
      std::printf("CIFAR-10 from %s: %lld train / %lld test images; teacher %s, students %d epochs, batch %lld, "
                  "Adam lr %g, %zu run(s), %d threads%s\n",
                  a.data.c_str(), static_cast<long long>(n), static_cast<long long>(d.test_labels.numel()),
                  teacher_from.c_str(), a.epochs, static_cast<long long>(a.batch), a.lr, runs.size(), a.threads,
                  dist_info().on ? (", " + std::to_string(dist_info().size) + " ranks × batch " +
                                    std::to_string(global_batch(a.batch) / dist_info().size) + " (global " +
                                    std::to_string(global_batch(a.batch)) + ")").c_str() : "");

      std::vector<EpochRow> rows;
      manual_seed(a.seed);
      auto teacher = std::make_shared<nn::TeacherNet>();
      RunResult tr = a.load_teacher.empty()
                         ? train_run(*teacher, cross_entropy_objective(), *loader, d,
                                     {.name = "teacher", .epochs = a.teacher_epochs, .lr = a.lr, .checkpoint = &a.checkpoint},
                                     rows)
                         : load_and_evaluate(*teacher, "teacher", a.load_teacher, d);
      if (!a.save_teacher.empty() && dist_info().main()) nn::save_safetensors(*teacher, a.save_teacher);
      teacher->eval();
      teacher->requires_grad_(false);

      const zoo::Setup setup{d.train_labels, a.epochs * static_cast<std::int64_t>(loader->num_batches()), a.crd_k, a.seed};
      std::vector<std::string> taps;
      for (const auto& r : runs)
        for (const auto& t : zoo::make_objective(r, setup).teacher_taps)
          if (std::find(taps.begin(), taps.end(), t) == taps.end()) taps.push_back(t);
      Progress timer("teacher cache", 1, n);
      TeacherCache cache = cache_teacher(*teacher, d.train_norm, cacheable(*teacher, taps, n));
      std::printf("\rteacher outputs cached: logits%s%s (%.0f MB, %s)\n", cache.features.empty() ? "" : " +",
                  [&] { std::string s; for (const auto& [k, v] : cache.features) s += " " + k; return s; }().c_str(),
                  static_cast<double>(cache.bytes()) / 1e6, clock_str(timer.seconds()).c_str());

      Table table{"kd_zoo: StudentNet from TeacherNet (test accuracy %)",
                  {"loss", "weights", "last acc", "best acc", "train time", "img/s"}, {}};
      bool trained = a.load_teacher.empty();
      table.add({"(teacher)", "ce 1", fmt(tr.last, 2), fmt(tr.best, 2), trained ? clock_str(tr.seconds) : "-",
                 trained ? fmt(tr.images_per_second, 0) : "-"});
      std::vector<std::string> names;
      for (const auto& r : runs) {
        std::string name = zoo::run_name(r);
        std::printf("\n== %s: %s\n", name.c_str(), zoo::describe(r).c_str());
        manual_seed(a.seed);
        auto student = std::make_shared<nn::StudentNet>();
        Objective obj = zoo::make_objective(r, setup);
        RunResult res = train_run(*student, obj, *loader, d,
                                  {.name = name, .epochs = a.epochs, .lr = a.lr, .teacher = teacher.get(),
                                   .cache = &cache, .restart_epochs = true, .checkpoint = &a.checkpoint},
                                  rows);
        table.add({name, zoo::describe(r), fmt(res.last, 2), fmt(res.best, 2), clock_str(res.seconds),
                   fmt(res.images_per_second, 0)});
        names.push_back(name);
      }
      table.print();
      if (!dist_info().main()) return 0;  // rank 0 writes the outputs
      std::string csv = a.csv.empty() ? a.out + "/zoo.csv" : a.csv;
      table.write_csv(csv);
      write_epoch_csv(a.out + "/metrics.csv", rows);
      std::printf("results: %s, per-epoch metrics: %s/metrics.csv\n", csv.c_str(), a.out.c_str());
      plot_bars(csv, a.out + "/zoo_accuracy.png", "kd_zoo: test accuracy by loss", "test accuracy (%)", {3, 4});
      plot_epochs(a.out + "/metrics.csv", a.out, names, "zoo_");
      return plot_failures() > 0 ? 1 : 0;
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nkd_zoo: %s\n", e.what());
    return 1;
  }
}
