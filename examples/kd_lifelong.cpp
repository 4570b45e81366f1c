// kd_lifelong: class-incremental CIFAR-10 with Learning without Forgetting (Li & Hoiem 2016).
// The ten classes arrive as five tasks of two ({0,1}, {2,3}, …, {8,9}; data::class_tasks); one
// StudentNet with a single head that grows by two outputs per task (nn::grow_linear) is trained
// task after task, and after each stage it is tested on every task seen so far, the prediction
// being the argmax over all classes seen (class-incremental: no task id at test time; the
// task-aware accuracy, argmax over the task's own two classes as in Li & Hoiem's task-incremental
// setting, is reported next to it). Methods:
//   finetune  CE on the new task's data only (catastrophic forgetting: the lower bound)
//   lwf       before stage t, the previous model's logits on the new task's training images are
//             recorded (old classes only); then CE on the new data + λ·lwf_loss(T) on the old
//             classes' logits (kd/lwf.h; Li & Hoiem's λ_o = 1, T = 2 by default)
//   joint     CE on all the data of the tasks seen so far (the upper bound)
// Every method starts from the same initial weights and trains --epochs epochs per stage with
// Adam (no warm-up stage, no weight decay, no augmentation). Prints the accuracy matrix
// (stage × task) of each method, average accuracy and forgetting (Chaudhry et al. 2018: per old
// task, the best accuracy of an earlier stage minus the final one, averaged), and writes
// OUT/lifelong.csv (summary), OUT/accuracy_matrix.csv (method,stage,task,accuracy),
// OUT/metrics.csv (per epoch) and OUT/lifelong_heatmap.png (gnuplot).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/kd_experiment.h"
#include "common/progress.h"
#include "common/report.h"
#include "common/run_flags.h"
#include "data/class_subset.h"
#include "kd/lwf.h"
#include "lifelong/report.h"
#include "nn/incremental.h"
#include "nn/models.h"
#include "retort.h"
#include "tensor/atomic_file.h"

using namespace retort::examples::lifelong;

using namespace retort;
using namespace retort::examples;

namespace {

struct Args {
  std::string data = "data-cache/cifar10", out = "kd_lifelong_out", csv, device = "cpu", methods = "all";
  int epochs = 5, threads = 2;
  std::int64_t train_limit = -1, test_limit = -1, batch = 128;
  double lr = 1e-3, lambda = 1.0, T = 2.0;
  std::uint64_t seed = 42;
};

[[noreturn]] void usage(const std::string& why) {
  usage_exit("kd_lifelong", why,
             "usage: kd_lifelong [--smoke] [--data DIR] [--methods all|lwf|finetune|joint[,...]] [--epochs E]\n"
             "                   [--lambda L] [--T T] [--train-limit N] [--test-limit N] [--batch B] [--lr LR]\n"
             "                   [--seed S] [--threads N] [--device cpu|cuda|cuda:N] [--out DIR] [--csv FILE]\n"
             "Five tasks of two CIFAR-10 classes, class-incremental. Defaults: every method, 5 epochs per task,\n"
             "lambda 1 and T 2 (Li & Hoiem), batch 128, Adam lr 1e-3, --out kd_lifelong_out.\n"
             "--smoke: --train-limit 600 --test-limit 300 --epochs 1 --batch 64 (flags after it override).\n"
             "Writes OUT/lifelong.csv (average accuracy, forgetting), OUT/accuracy_matrix.csv, OUT/metrics.csv\n"
             "and OUT/lifelong_heatmap.png (gnuplot); --csv FILE: the summary there as well.\n");
}

Args parse(int argc, char** argv) {
  Args a;
  Flags f(usage);
  f.action("--smoke", [&] {
    a.train_limit = 600;
    a.test_limit = 300;
    a.epochs = 1;
    a.batch = 64;
  });
  for (auto [flag, field] : {std::pair{"--data", &a.data}, {"--device", &a.device}, {"--out", &a.out},
                             {"--csv", &a.csv}, {"--methods", &a.methods}})
    f.value(flag, *field);
  for (auto [flag, field] : {std::pair{"--epochs", &a.epochs}, {"--threads", &a.threads}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--train-limit", &a.train_limit}, {"--test-limit", &a.test_limit},
                             {"--batch", &a.batch}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--lr", &a.lr}, {"--T", &a.T}}) f.value(flag, *field, Flags::positive);
  f.value("--lambda", a.lambda, Flags::non_negative);
  f.value("--seed", a.seed);
  f.parse(argc, argv);
  std::string rest = a.methods + ",";
  for (std::size_t p; (p = rest.find(',')) != std::string::npos; rest.erase(0, p + 1)) {
    const std::string m = rest.substr(0, p);
    f.check(m == "all" || m == "lwf" || m == "finetune" || m == "joint",
            "--methods: unknown method '" + m + "' (lwf, finetune, joint or all)");
  }
  check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit, .device = a.device,
                      .out = a.out, .csv = a.csv});
  return a;
}

// Accuracy (%) on one task's test images: {argmax over every output, argmax over the task's
// classes (contiguous, as class_tasks makes them)}. Eval mode, no_grad; net back in train mode.
std::pair<double, double> task_accuracy(nn::Module& net, const data::Batch& t, const std::vector<std::int64_t>& classes) {
  NoGradGuard ng;
  net.eval();
  const Device dev = device_of(net);
  const std::int64_t n = t.targets.numel(), first = classes.front(), k = static_cast<std::int64_t>(classes.size());
  std::int64_t all = 0, aware = 0;
  for (std::int64_t s = 0; s < n; s += kInferenceBatch) {
    const std::int64_t len = std::min(kInferenceBatch, n - s);
    Tensor logits = net(narrow(t.inputs, 0, s, len).to(dev)).to(kCPU);
    Tensor y = narrow(t.targets, 0, s, len);
    all += sum(eq(argmax(logits, 1), y)).item<std::int64_t>();
    aware += sum(eq(argmax(narrow(logits, 1, first, k), 1), y - first)).item<std::int64_t>();
  }
  net.train();
  return {100.0 * static_cast<double>(all) / static_cast<double>(n), 100.0 * static_cast<double>(aware) / static_cast<double>(n)};
}

std::vector<std::int64_t> seen_classes(const std::vector<std::vector<std::int64_t>>& tasks, std::size_t stage) {
  std::vector<std::int64_t> c;
  for (std::size_t j = 0; j <= stage; ++j) c.insert(c.end(), tasks[j].begin(), tasks[j].end());
  return c;
}

MethodResult run_method(const std::string& method, const Args& a, const CifarData& d,
                        const std::shared_ptr<data::TensorDataset>& train, const std::shared_ptr<data::TensorDataset>& test,
                        std::vector<EpochRow>& rows) {
  const auto tasks = data::class_tasks(kClasses, kTasks);
  const auto per = static_cast<std::int64_t>(tasks[0].size());
  MethodResult r{method, {}, {}, 0};
  manual_seed(a.seed);  // the same initial weights for every method
  auto net = std::make_shared<nn::StudentNet>(3, per);
  auto head = net->classifier->at<nn::Linear>(3);
  for (std::size_t s = 0; s < tasks.size(); ++s) {
    std::printf("\n==== %s: stage %zu, classes", method.c_str(), s + 1);
    for (auto c : tasks[s]) std::printf(" %lld", static_cast<long long>(c));
    std::printf("\n");
    auto ds = std::make_shared<data::ClassSubset>(train, method == "joint" ? seen_classes(tasks, s) : tasks[s]);
    const data::Batch seen_test = data::ClassSubset(test, seen_classes(tasks, s)).all();
    Objective obj = cross_entropy_objective();
    RunOptions o{.name = method + "_stage" + std::to_string(s + 1), .epochs = a.epochs, .lr = a.lr};
    std::shared_ptr<nn::StudentNet> old;
    TeacherCache cache;
    if (s > 0 && method == "lwf") {
      // The previous model, frozen, and its old-class logits on the new task's data, recorded
      // before any training on it (rows in the subset's order, which the batches' indices use).
      old = std::make_shared<nn::StudentNet>(3, per * static_cast<std::int64_t>(s));
      nn::TensorMap state;
      for (const auto& [k, v] : net->state_dict()) state[k] = v;
      old->load_state_dict(state);
      old->requires_grad_(false);
      cache = cache_teacher(*old, ds->all().inputs);
      const double T = a.T;
      obj.terms.push_back({.name = "lwf", .weight = a.lambda, .fn = [T](const kd::Context& c) {
                             return kd::lwf_loss(c.student_logits, c.teacher_logits, {.T = T});
                           }, .schedule = {}, .cost = {}});
      o.teacher = old.get();
      o.cache = &cache;
    }
    if (s > 0) nn::grow_linear(*head, per);
    data::DataLoader loader(ds, {.batch_size = a.batch, .shuffle = true, .seed = a.seed + s, .prefetch = 0});
    CifarData stage{.test_images = seen_test.inputs, .test_labels = seen_test.targets, .device = d.device};
    r.seconds += train_run(*net, obj, loader, stage, o, rows).seconds;
    std::vector<double> accs, aware;
    for (std::size_t j = 0; j <= s; ++j) {
      auto [all, own] = task_accuracy(*net, data::ClassSubset(test, tasks[j]).all(), tasks[j]);
      accs.push_back(all);
      aware.push_back(own);
    }
    r.acc.push_back(accs);
    r.task_aware.push_back(aware);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    set_num_threads(a.threads);
    std::filesystem::create_directories(a.out);
    const CifarData d = load_data({a.data, a.train_limit, a.test_limit, parse_device(a.device)});
    auto train = std::make_shared<data::TensorDataset>(d.train_norm, d.train_labels);
    auto test = std::make_shared<data::TensorDataset>(d.test_images, d.test_labels);
    std::vector<std::string> methods;
    for (const char* m : {"finetune", "lwf", "joint"})
      if (a.methods == "all" || ("," + a.methods + ",").find(std::string(",") + m + ",") != std::string::npos)
        methods.push_back(m);
    std::vector<EpochRow> rows;
    std::vector<MethodResult> results;
    for (const auto& m : methods) results.push_back(run_method(m, a, d, train, test, rows));

    std::string cells = "method,stage,task,accuracy,task_aware_accuracy\n";
    for (const auto& m : results) {
      print_matrix(m.method, m.acc, "argmax over all seen classes");
      print_matrix(m.method, m.task_aware, "task-aware: argmax over the task's own classes");
      for (std::size_t s = 0; s < m.acc.size(); ++s)
        for (std::size_t j = 0; j < m.acc[s].size(); ++j)
          cells += m.method + "," + std::to_string(s + 1) + "," + std::to_string(j + 1) + "," + fmt(m.acc[s][j], 2) +
                   "," + fmt(m.task_aware[s][j], 2) + "\n";
    }
    write_file_atomically(a.out + "/accuracy_matrix.csv", cells, "kd_lifelong accuracy matrix");
    char title[160];
    std::snprintf(title, sizeof title, "class-incremental CIFAR-10, 5 tasks x 2 classes, %d epochs per task (lwf: lambda %g, T %g)",
                  a.epochs, a.lambda, a.T);
    Table t{title,
            {"method", "average acc", "forgetting", "task-aware avg acc", "task-aware forgetting", "final acc task 1",
             "train time"},
            {}};
    for (const auto& m : results)
      t.add({m.method, fmt(average_accuracy(m.acc), 2), fmt(forgetting(m.acc), 2), fmt(average_accuracy(m.task_aware), 2),
             fmt(forgetting(m.task_aware), 2), fmt(m.acc.back()[0], 2), clock_str(m.seconds)});
    std::printf("\n");
    t.print();
    const std::string csv = a.out + "/lifelong.csv";
    t.write_csv(csv);
    if (!a.csv.empty()) t.write_csv(a.csv);
    write_epoch_csv(a.out + "/metrics.csv", rows);
    std::printf("table: %s\naccuracy matrix: %s/accuracy_matrix.csv\nper-epoch metrics: %s/metrics.csv\n", csv.c_str(),
                a.out.c_str(), a.out.c_str());
    bool ok = plot_heatmaps(a.out, results);
    plot_bars(csv, a.out + "/lifelong.png", "class-incremental CIFAR-10", "accuracy / forgetting (%)", {2, 3, 4, 5});
    std::printf("wall time: %s\n",
                clock_str(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()).c_str());
    return ok && plot_failures() == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nkd_lifelong: %s\n", e.what());
    return 1;
  }
}
