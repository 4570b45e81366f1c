// kd_nas: searches a student architecture for distillation from the seed TeacherNet on CIFAR-10,
// with the KD objective in the loop (kd/nas.h, kd/nas_train.h), then trains the winner in full
// next to the seed StudentNet under the same KD schedule and parameter budget:
//   1. the teacher: trained (--teacher-epochs) or loaded (--teacher-ckpt / --load-teacher); its
//      logits for the whole training split computed once (no augmentation, so they are exact);
//   2. the search: candidates sampled from the conv-net space within the budget (the seed
//      StudentNet's spec first), scored by successive halving — each survivor trained further by
//      KD on the search split and scored by its accuracy on the held-out validation images;
//   3. the winner and the seed's nn::StudentNet, each from the same seed, trained by the same KD
//      schedule on the whole training split (search + validation images), evaluated on the test
//      split per epoch.
// Prints each candidate's spec, parameters, MACs and score per round, the winner, and the final
// table; writes OUT/candidates.csv, OUT/nas.csv (or --csv), OUT/metrics.csv and plots.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/kd_experiment.h"
#include "common/progress.h"
#include "common/report.h"
#include "kd/nas_train.h"
#include "nas/args.h"
#include "nn/models.h"
#include "nn/serialization.h"
#include "retort.h"

using namespace retort;
using namespace retort::examples;
namespace knas = retort::kd::nas;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string millions(std::int64_t v) { return fmt(static_cast<double>(v) / 1e6, 2) + "M"; }

struct Final {
  RunResult result;
  std::string name;
};

// The full KD training of one student (the library's KdTraining, as the search used), one test
// evaluation per epoch, a progress line per step.
Final train_final(const std::string& name, std::shared_ptr<nn::Module> net,
                  std::shared_ptr<nn::Module> teacher, const CifarData& d, const Tensor& logits,
                  const knas::KdTrainOptions& opt, int epochs, std::vector<EpochRow>& rows) {
  knas::KdTraining run(net, teacher, d.train_norm, d.train_labels, logits, opt);
  Final f{{name, net->num_parameters()}, name};
  for (int e = 1; e <= epochs; ++e) {
    Progress p(name + " epoch " + std::to_string(e), run.steps_per_epoch(), d.train_labels.numel());
    run.train(run.steps_per_epoch(), [&](std::int64_t, std::int64_t n, double loss, std::int64_t correct) {
      p.update(n, loss, correct);
    });
    const double secs = p.seconds();
    const double acc = knas::accuracy(*net, d.test_images, d.test_labels);
    std::printf("\r%s epoch %d: loss %.4f train_acc %.2f%% test_acc %.2f%% (%s, %.0f img/s)      \n", name.c_str(), e,
                p.mean_loss(), p.accuracy(), acc, clock_str(secs).c_str(), p.images_per_second());
    rows.push_back({name, e, p.mean_loss(), p.accuracy(), acc, secs, p.images_per_second()});
    f.result.last = acc;
    f.result.best = std::max(f.result.best, acc);
    f.result.seconds += secs;
  }
  f.result.images_per_second = static_cast<double>(d.train_labels.numel()) * epochs / f.result.seconds;
  return f;
}

int run(const nas::Args& a) {
  const auto t_start = std::chrono::steady_clock::now();
  set_num_threads(a.threads);
  std::filesystem::create_directories(a.out);
  CifarData d = load_data({a.data, a.train_limit, a.test_limit, parse_device(a.device)});
  const std::int64_t n = d.train_labels.numel(), n_search = n - a.val;
  const Tensor search_x = narrow(d.train_norm, 0, 0, n_search), search_y = narrow(d.train_labels, 0, 0, n_search);
  const Tensor val_x = narrow(d.train_norm, 0, n_search, a.val), val_y = narrow(d.train_labels, 0, n_search, a.val);

  knas::SearchSpace space;
  const knas::Budget budget{a.max_params, a.max_macs};
  const std::int64_t feasible = static_cast<std::int64_t>(knas::enumerate(space, budget).size());
  const std::int64_t steps_per_epoch = (n_search + a.batch - 1) / a.batch;
  const knas::HalvingOptions halving{
      a.round_steps > 0 ? a.round_steps : std::max<std::int64_t>(1, std::llround(a.round_epochs * steps_per_epoch)),
      a.eta};
  const knas::Plan plan = knas::halving_plan(a.candidates, halving);
  std::printf("kd_nas (%s preset): CIFAR-10 from %s: %lld train images = %lld search + %lld validation (held out), "
              "%lld test; %d threads\n",
              a.preset.c_str(), a.data.c_str(), static_cast<long long>(n), static_cast<long long>(n_search),
              static_cast<long long>(a.val), static_cast<long long>(d.test_labels.numel()), a.threads);
  std::printf("space: %lld specs, %lld within the budget (<= %lld params, <= %lld MACs; 0 = no limit)\n",
              static_cast<long long>(space.size()), static_cast<long long>(feasible),
              static_cast<long long>(a.max_params), static_cast<long long>(a.max_macs));
  std::printf("successive halving, eta %lld:", static_cast<long long>(a.eta));
  for (std::size_t r = 0; r < plan.budgets.size(); ++r)
    std::printf(" round %zu %lld x %lld steps;", r, static_cast<long long>(plan.candidates[r]),
                static_cast<long long>(plan.budgets[r]));
  std::printf(" %lld steps in all (%.1f epochs of the search split)\n", static_cast<long long>(plan.total),
              static_cast<double>(plan.total) / static_cast<double>(steps_per_epoch));
  std::printf("KD: %g KL(T = %g) + %g CE, Adam lr %g, batch %lld, seed %llu\n", a.kd_weight, a.T, a.ce_weight, a.lr,
              static_cast<long long>(a.batch), static_cast<unsigned long long>(a.seed));

  // 1. The teacher.
  auto t0 = std::chrono::steady_clock::now();
  std::vector<EpochRow> rows;
  manual_seed(a.seed);
  auto teacher = std::make_shared<nn::TeacherNet>();
  RunResult tr;
  if (a.load_teacher.empty()) {
    auto loader = make_loader(d, a.batch, a.seed, false);
    tr = train_run(*teacher, cross_entropy_objective(), *loader, d,
                   {.name = "teacher", .epochs = a.teacher_epochs, .lr = a.lr}, rows);
  } else {
    tr = load_and_evaluate(*teacher, "teacher", a.load_teacher, d);
  }
  if (!a.save_teacher.empty()) nn::save_safetensors(*teacher, a.save_teacher);
  teacher->eval();
  teacher->requires_grad_(false);
  const Tensor logits = knas::teacher_logits(*teacher, d.train_norm);
  const double teacher_secs = since(t0);
  std::printf("teacher: test_acc %.2f%%, logits of %lld training images computed (%s)\n", tr.last,
              static_cast<long long>(n), clock_str(teacher_secs).c_str());

  // 2. The search.
  t0 = std::chrono::steady_clock::now();
  std::vector<nn::ConvNetSpec> include;
  if (a.include_student) include.push_back(nn::ConvNetSpec::student_net());
  const auto specs = knas::sample(space, budget, a.candidates, a.seed, include);
  std::printf("\ncandidates:\n");
  for (std::size_t i = 0; i < specs.size(); ++i)
    std::printf("  c%-3zu %-36s %9lld params %7s MACs%s\n", i, specs[i].describe().c_str(),
                static_cast<long long>(specs[i].parameter_count(3, 10, 32)),
                millions(specs[i].macs(3, 10, 32)).c_str(), i == 0 && a.include_student ? "  (seed StudentNet)" : "");
  const knas::KdTrainOptions opt{a.T, a.kd_weight, a.ce_weight, a.batch, a.lr, a.seed};
  knas::KdScorer scorer(teacher, search_x, search_y, val_x, val_y, space, opt, d.device, narrow(logits, 0, 0, n_search));
  std::size_t cur_round = 0;
  auto score = [&](std::size_t i, const nn::ConvNetSpec& spec, std::int64_t b) {
    const std::int64_t done = cur_round > 0 ? plan.budgets[cur_round - 1] : 0;  // its previous round's
    Progress p("round " + std::to_string(cur_round) + " c" + std::to_string(i), b - done, (b - done) * a.batch);
    scorer.on_step = [&](std::int64_t, std::int64_t m, double loss, std::int64_t correct) { p.update(m, loss, correct); };
    const double s = scorer(i, spec, b);
    std::printf("\r  round %zu c%-3zu %-36s steps %5lld  val_acc %6.2f%%  (%s)            \n", cur_round, i,
                spec.describe().c_str(), static_cast<long long>(b), s, clock_str(p.seconds()).c_str());
    return s;
  };
  auto on_round = [&](const knas::Round& r) {
    std::printf("round %zu kept:", cur_round);
    for (std::size_t i : r.kept) std::printf(" c%zu", i);
    std::printf("\n");
    ++cur_round;
  };
  const knas::HalvingResult res = knas::successive_halving(specs, score, halving, on_round);
  const double search_secs = since(t0);
  const nn::ConvNetSpec& win = specs[res.winner];
  std::printf("winner: c%zu %s, %lld params, %s MACs (search %s)\n", res.winner, win.describe().c_str(),
              static_cast<long long>(win.parameter_count(3, 10, 32)), millions(win.macs(3, 10, 32)).c_str(),
              clock_str(search_secs).c_str());

  Table cand{"kd_nas: candidates (validation accuracy % after each round's KD training)",
             {"candidate", "spec", "params", "MACs"}, {}};
  for (std::size_t r = 0; r < res.rounds.size(); ++r)
    cand.header.push_back("round" + std::to_string(r) + "@" + std::to_string(res.rounds[r].budget));
  cand.header.push_back("outcome");
  for (std::size_t i = 0; i < specs.size(); ++i) {
    std::vector<std::string> row{"c" + std::to_string(i), specs[i].describe(),
                                 std::to_string(specs[i].parameter_count(3, 10, 32)),
                                 std::to_string(specs[i].macs(3, 10, 32))};
    std::string outcome = "winner";
    for (std::size_t r = 0; r < res.rounds.size(); ++r) {
      const double s = res.score(r, i);
      row.push_back(std::isnan(s) ? "-" : fmt(s, 2));
      if (!std::isnan(s) && outcome == "winner" && i != res.winner &&
          std::find(res.rounds[r].kept.begin(), res.rounds[r].kept.end(), i) == res.rounds[r].kept.end())
        outcome = "out in round " + std::to_string(r);
    }
    row.push_back(outcome);
    cand.add(row);
  }
  cand.print();
  cand.write_csv(a.out + "/candidates.csv");

  // 3. The winner and StudentNet, the same KD schedule on the whole training split.
  std::printf("\nfinal training: %d epochs on %lld images, test split after each epoch\n", a.epochs,
              static_cast<long long>(n));
  manual_seed(a.seed);
  auto winner_net = std::make_shared<nn::ConvNet>(win);
  winner_net->to(d.device);
  Final fw = train_final("nas_winner", winner_net, teacher, d, logits, opt, a.epochs, rows);
  // The seed's nn::StudentNet itself, also when the winner has its spec: the seed net builds its
  // layers in another order than ConvNet, so the same seed gives it other initial weights, and the
  // two runs of one architecture show how far an initialisation alone moves the result.
  manual_seed(a.seed);
  auto student = std::make_shared<nn::StudentNet>();
  student->to(d.device);
  Final fs = train_final("StudentNet", student, teacher, d, logits, opt, a.epochs, rows);
  const double search_val = res.rounds.empty() ? 0 : res.score(res.rounds.size() - 1, res.winner);
  const nn::ConvNetSpec sn = nn::ConvNetSpec::student_net();
  // StudentNet's score in the last round it was evaluated (candidate 0 when included).
  std::string student_val = "-";
  for (std::size_t r = 0; a.include_student && r < res.rounds.size(); ++r)
    if (!std::isnan(res.score(r, 0))) student_val = fmt(res.score(r, 0), 2) + " (round " + std::to_string(r) + ")";
  Table t{"kd_nas: searched student vs the seed StudentNet, same KD schedule (test accuracy %)",
          {"model", "spec", "params", "MACs", "search val acc", "last acc", "best acc", "train time"}, {}};
  t.add({"(teacher)", "TeacherNet", std::to_string(teacher->num_parameters()),
         std::to_string(nn::ConvNetSpec::teacher_net().macs(3, 10, 32)), "-", fmt(tr.last, 2), fmt(tr.best, 2),
         a.load_teacher.empty() ? clock_str(tr.seconds) : "-"});
  t.add({"nas_winner", win.describe(), std::to_string(win.parameter_count(3, 10, 32)),
         std::to_string(win.macs(3, 10, 32)),
         fmt(search_val, 2) + " (round " + std::to_string(res.rounds.size() - 1) + ")", fmt(fw.result.last, 2), fmt(fw.result.best, 2),
         clock_str(fw.result.seconds)});
  t.add({"StudentNet", sn.describe(), std::to_string(sn.parameter_count(3, 10, 32)), std::to_string(sn.macs(3, 10, 32)),
         student_val, fmt(fs.result.last, 2), fmt(fs.result.best, 2),
         clock_str(fs.result.seconds)});
  t.print();
  const std::string csv = a.csv.empty() ? a.out + "/nas.csv" : a.csv;
  t.write_csv(csv);
  write_epoch_csv(a.out + "/metrics.csv", rows);
  std::printf("results: %s, candidates: %s/candidates.csv, per-epoch metrics: %s/metrics.csv\n", csv.c_str(),
              a.out.c_str(), a.out.c_str());
  plot_bars(csv, a.out + "/nas_accuracy.png", "kd_nas: test accuracy", "test accuracy (%)", {6, 7});
  plot_bars(a.out + "/candidates.csv", a.out + "/candidates.png", "kd_nas: round-0 validation accuracy",
            "validation accuracy (%)", {5});
  plot_epochs(a.out + "/metrics.csv", a.out, {"nas_winner", "StudentNet"}, "nas_");
  std::printf("wall time: teacher %s, search %s, winner %s, StudentNet %s, total %s\n", clock_str(teacher_secs).c_str(),
              clock_str(search_secs).c_str(), clock_str(fw.result.seconds).c_str(),
              clock_str(fs.result.seconds).c_str(), clock_str(since(t_start)).c_str());
  return plot_failures() > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const nas::Args a = nas::parse_args(argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nkd_nas: %s\n", e.what());
    return 1;
  }
}
