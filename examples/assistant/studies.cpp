// kd_assistant's two studies. The chain study keeps the student's schedule fixed (same epochs,
// batches, optimiser and initial weights in every row) and varies only what it learns from; the
// assistants' training is extra cost, shown as the chain's total steps and time. The gap study
// distils the same student from teachers of increasing size, each trained from labels alone.
#include <algorithm>
#include <cstdio>

#include "assistant/study.h"

namespace retort::examples::assistant {

namespace {

std::string accuracy_of(const ChainRun& run, const std::string& net_name) {
  for (std::size_t k = 0; k + 1 < run.stages.size(); ++k)
    if (run.path[k + 1] == net_name) return fmt(run.stages[k].score, 2);
  return "-";
}

}  // namespace

void chain_study(Context& c) {
  const TeacherEntry& t = c.teacher("teacher");
  const RunResult& ce = c.baseline("student");
  const std::int64_t steps_per_stage =
      static_cast<std::int64_t>(c.args().epochs) *
      ((c.data().train_labels.numel() + c.args().batch - 1) / c.args().batch);
  Table table{"Teacher assistants: the student (" + std::to_string(net("student").params) +
                  " params) distilled directly or through assistants; teacher " + fmt(t.acc, 2) +
                  "%, every stage " + std::to_string(c.args().epochs) + " epochs",
              {"chain", "path", "student_acc", "ta_medium_acc", "ta_small_acc", "chain_steps", "chain_seconds"}};
  table.add({"no teacher (CE)", "student", fmt(ce.last, 2), "-", "-", std::to_string(steps_per_stage),
             fmt(ce.seconds, 1)});
  const std::vector<std::pair<std::string, std::vector<std::string>>> chains = {
      {"direct KD", {"teacher", "student"}},
      {"1 assistant", {"teacher", "ta-medium", "student"}},
      {"2 assistants", {"teacher", "ta-medium", "ta-small", "student"}},
  };
  for (const auto& [label, path] : chains) {
    ChainRun run = c.chain(path);
    std::string p;
    for (const auto& n : path) p += (p.empty() ? "" : ">") + n;
    table.add({label, p, fmt(run.stages.back().score, 2), accuracy_of(run, "ta-medium"),
               accuracy_of(run, "ta-small"), std::to_string(run.steps()), fmt(run.seconds(), 1)});
  }
  c.report("chain", table);
  plot_bars(c.args().out + "/chain.csv", c.args().out + "/chain.png", table.title, "student test accuracy (%)", {3});
}

void gap_study(Context& c) {
  const RunResult& ce = c.baseline("student");
  Table table{"Capacity gap: the student (" + std::to_string(net("student").params) +
                  " params) distilled from teachers of increasing size; student alone (CE) " + fmt(ce.last, 2) + "%",
              {"teacher", "teacher_params", "teacher_mmacs", "teacher_acc", "student_acc", "gain_over_ce"}};
  for (const auto& name : c.args().teachers) {
    const Net& n = net(name);
    const TeacherEntry& t = c.teacher(n.name);
    ChainRun run = c.chain({n.name, "student"});
    const double acc = run.stages.back().score;
    table.add({n.name, std::to_string(n.params), fmt(static_cast<double>(n.macs) / 1e6, 1), fmt(t.acc, 2),
               fmt(acc, 2), fmt(acc - ce.last, 2)});
  }
  c.report("gap", table);
  plot_xy(c.args().out + "/gap.csv", c.args().out + "/gap.png", table.title, "teacher parameters (log scale)",
          "test accuracy (%)", 2, {5, 4}, /*log_x=*/true);
}

void sizes(Context& c) {
  Table table{"Size ladder (3x32x32 inputs, 10 classes)", {"net", "spec", "params", "mmacs"}};
  for (const auto& n : ladder()) {
    std::string spec = n.spec.describe();  // per-conv widths "128,64" would split the CSV cell
    std::replace(spec.begin(), spec.end(), ',', '/');
    table.add({n.name, spec, std::to_string(n.params), fmt(static_cast<double>(n.macs) / 1e6, 1)});
  }
  c.report("sizes", table);
}

}  // namespace retort::examples::assistant
