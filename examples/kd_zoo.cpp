// kd_zoo: trains a student from a teacher — the seed nets, or any pair of the model zoo (nn/zoo.h)
// — on CIFAR-10 or CIFAR-100 with any of the library's distillation losses by name, alone or
// combined with weights, under the seed or RepDistiller's protocol (zoo/args.h):
//   kd_zoo --loss kd                 CE 0.1 + KD 0.9 (the reference weights)
//   kd_zoo --loss ce:0.75,kd:0.25    explicit weights
//   kd_zoo --loss ce,at:1000         CE + attention transfer
//   kd_zoo --loss all                every loss in turn (CE + that loss), one table
//   kd_zoo --loss all --costs        what each loss costs per batch (kd/cost.h), no training
//   kd_zoo --teacher resnet32x4 --student resnet8x4 --dataset cifar100 --loss kd
// The teacher is trained once (or loaded, --teacher-ckpt) and shared by every run. Without
// augmentation its logits and tapped features are computed once for the whole training set and
// cached (exact); a tap whose cache would pass 2 GiB, and every tap under augmentation, is
// computed by a teacher forward per batch instead.
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
#include "nn/serialization.h"
#include "retort.h"
#include "zoo/args.h"
#include "zoo/layout.h"
#include "zoo/losses.h"

using namespace retort;
using namespace retort::examples;
using namespace retort::examples::zoo;

namespace {

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
// The feature layout of a student ← teacher pair (zoo/layout.h).
FeatureLayout layout_for(const Args& a, nn::Module& student, nn::Module& teacher) {
  if (is_seed_net(a.teacher)) return seed_layout();
  return zoo_layout(dynamic_cast<nn::ZooNet&>(student), dynamic_cast<nn::ZooNet&>(teacher));
}

void print_costs(const Args& a, const std::vector<std::vector<WeightedLoss>>& runs) {
  manual_seed(a.seed);
  auto teacher = make_net(a.teacher, a.classes());
  const std::int64_t n = 50000;  // the training set (CRD's memory banks)
  Setup setup{randint(0, a.classes(), {n}), 1, a.crd_k, a.seed};
  data::Batch b{randn({a.batch, 3, 32, 32}), randint(0, a.classes(), {a.batch}), narrow(randperm(n), 0, 0, a.batch)};
  const std::vector<std::int64_t> indices = b.indices.contiguous().to_vector<std::int64_t>();
  std::vector<kd::TermCost> rows;
  for (const auto& r : runs) {
    auto student = make_net(a.student, a.classes());
    setup.layout = layout_for(a, *student, *teacher);
    Objective obj = make_objective(r, setup);
    kd::Distiller d(student, teacher);
    for (const auto& p : obj.student_taps) d.add_student_tap(p);
    for (const auto& p : obj.teacher_taps) d.add_teacher_tap(p);
    for (auto& t : obj.terms) d.add_term(t);
    if (obj.on_batch) obj.on_batch(b);
    for (const auto& row : d.term_costs(b.inputs, b.targets, indices, 3))
      if (row.name != "ce" || std::none_of(rows.begin(), rows.end(), [](auto& x) { return x.name == "ce"; }))
        rows.push_back(row);
  }
  std::printf("kd_zoo --costs: batch %lld, %s <- %s, %lld classes, %d threads (fastest of 3)\n",
              static_cast<long long>(a.batch), a.student.c_str(), a.teacher.c_str(),
              static_cast<long long>(a.classes()), a.threads);
  kd::print_term_costs(std::cout, rows);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  try {
    if (a.distributed) {
      start_distributed(a.scale_batch);
      a.device = rank_device(a.device);
    }
    return run_program([&]() -> int {
    std::vector<std::vector<WeightedLoss>> runs;
    if (a.loss == "all")
      for (const auto& l : loss_table()) runs.push_back(parse_losses(l.name));
    else
      runs.push_back(parse_losses(a.loss));
    set_num_threads(a.threads);
    if (a.costs) {
      print_costs(a, runs);
      return 0;
    }
    std::filesystem::create_directories(a.out);
    prepare_checkpoint_dir(a.checkpoint);
    CifarData d = load_data({a.data, a.train_limit, a.test_limit, parse_device(a.device), a.dataset});
    auto loader = make_loader(d, a.batch, a.seed, a.augment);
    const std::int64_t n = d.train_labels.numel();
    std::string teacher_from =
        a.load_teacher.empty() ? std::to_string(a.teacher_epochs) + " epochs" : "from " + a.load_teacher;
    std::string optim = a.repdistiller() ? "SGD (RepDistiller protocol)" : "Adam";
    std::printf("%s from %s: %lld train / %lld test images; %s <- %s (teacher %s); students %d epochs, "
                "batch %lld, %s lr %g%s, %zu run(s), %d threads%s\n",
                a.dataset.c_str(), a.data.c_str(), static_cast<long long>(n),
                static_cast<long long>(d.test_labels.numel()), a.student.c_str(), a.teacher.c_str(),
                teacher_from.c_str(), a.epochs, static_cast<long long>(a.batch), optim.c_str(), a.lr_for(a.student),
                a.augment ? ", crop+flip" : "", runs.size(), a.threads,
                dist_info().on ? (", " + std::to_string(dist_info().size) + " ranks × batch " +
                                  std::to_string(global_batch(a.batch) / dist_info().size) + " (global " +
                                  std::to_string(global_batch(a.batch)) + ")").c_str() : "");

    std::vector<EpochRow> rows;
    manual_seed(a.seed);
    auto teacher = make_net(a.teacher, a.classes());
    RunResult tr = a.load_teacher.empty()
                       ? train_run(*teacher, cross_entropy_objective(), *loader, d,
                                   {.name = "teacher", .epochs = a.teacher_epochs, .lr = a.lr_for(a.teacher),
                                    .sgd = a.sgd(a.teacher_epochs), .checkpoint = &a.checkpoint},
                                   rows)
                       : load_and_evaluate(*teacher, "teacher", a.load_teacher, d);
    if (!a.save_teacher.empty() && dist_info().main()) nn::save_safetensors(*teacher, a.save_teacher);
    teacher->eval();
    teacher->requires_grad_(false);

    Setup setup{d.train_labels, a.epochs * static_cast<std::int64_t>(loader->num_batches()), a.crd_k, a.seed};
    {
      auto probe = make_net(a.student, a.classes());
      setup.layout = layout_for(a, *probe, *teacher);
    }
    TeacherCache cache;
    if (!a.augment) {  // under augmentation each batch is a new image: the teacher runs live
      std::vector<std::string> taps;
      for (const auto& r : runs)
        for (const auto& t : make_objective(r, setup).teacher_taps)
          if (std::find(taps.begin(), taps.end(), t) == taps.end()) taps.push_back(t);
      Progress timer("teacher cache", 1, n);
      cache = cache_teacher(*teacher, d.train_norm, cacheable(*teacher, taps, n));
      std::printf("\rteacher outputs cached: logits%s%s (%.0f MB, %s)\n", cache.features.empty() ? "" : " +",
                  [&] { std::string s; for (const auto& [k, v] : cache.features) s += " " + k; return s; }().c_str(),
                  static_cast<double>(cache.bytes()) / 1e6, clock_str(timer.seconds()).c_str());
    }

    Table table{"kd_zoo: " + a.student + " from " + a.teacher + " on " + a.dataset + " (test accuracy %)",
                {"loss", "weights", "last acc", "best acc", "train time", "img/s"}, {}};
    bool trained = a.load_teacher.empty();
    table.add({"(teacher)", "ce 1", fmt(tr.last, 2), fmt(tr.best, 2), trained ? clock_str(tr.seconds) : "-",
               trained ? fmt(tr.images_per_second, 0) : "-"});
    std::vector<std::string> names;
    for (const auto& r : runs) {
      std::string name = run_name(r);
      std::printf("\n== %s: %s\n", name.c_str(), describe(r).c_str());
      manual_seed(a.seed);
      auto student = make_net(a.student, a.classes());
      Objective obj = make_objective(r, setup);
      RunResult res = train_run(*student, obj, *loader, d,
                                {.name = name, .epochs = a.epochs, .lr = a.lr_for(a.student), .sgd = a.sgd(a.epochs),
                                 .teacher = teacher.get(), .cache = a.augment ? nullptr : &cache,
                                 .restart_epochs = true, .checkpoint = &a.checkpoint},
                                rows);
      table.add({name, describe(r), fmt(res.last, 2), fmt(res.best, 2), clock_str(res.seconds),
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
