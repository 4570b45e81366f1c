// The state of examples/kd_assistant (namespace retort::examples::assistant): options, the size
// ladder of plain conv nets (nn/convnet.h) between the seed StudentNet and TeacherNet, a
// teacher store, and a memo of teacher-assistant chains (kd/assistant.h).
//
// Size ladder (3×32×32 inputs, 10 classes; params and MACs are ConvNetSpec's closed forms):
//   student     [1x16 k3] [1x16 k3] fc256              = StudentNet
//   ta-small    [1x32 k3] [1x32 k3] fc256
//   ta-medium   [1x64 k3] [64,32 k3] fc384
//   teacher     [128,64 k3] [64,32 k3] fc512           = TeacherNet
//   teacher-xl  [128,80 k3] [80,64 k3] fc512
// (kd_assistant prints the table with the counts; docs/kd.md lists them.)
//
// Training. Every run starts from manual_seed(seed) just before its net is built, uses Adam at a
// constant lr and sees the loader's epochs 0, 1, … (shuffled by seed) without augmentation, so
// the student's batches are identical in every chain and the teacher-output cache
// (kd::ChainOptions::cache_teacher) is exact. Teachers are trained from labels (cross-entropy)
// for --teacher-epochs with --teacher-seed (default --seed) in place of seed, so that several
// student seeds can share one set of teachers; every chain stage (assistants and student) for
// --epochs. Teachers are saved as OUT/teacher_<name>_<key>.safetensors with their settings in the
// metadata and loaded instead of retrained when the settings match.
//
// Chains are keyed by their path ("teacher>ta-medium>student"); a chain continues from the
// longest trained prefix in the memo, so the one- and two-assistant chains share the
// teacher→ta-medium stage.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/kd_experiment.h"
#include "common/report.h"
#include "kd/assistant.h"
#include "nn/convnet.h"

namespace retort::examples::assistant {

struct Args {
  std::string study, data = "data-cache/cifar10", out = "kd_assistant_out", csv, device = "cpu";
  int epochs = 10, teacher_epochs = 10, threads = 2;
  std::int64_t train_limit = -1, test_limit = -1, batch = 128;
  double lr = 1e-3, T = 2.0, lambda = 0.25;
  std::uint64_t seed = 42;
  std::optional<std::uint64_t> teacher_seed;  // seed of the teachers' runs; unset: --seed
  std::vector<std::string> teachers{"ta-small", "ta-medium", "teacher", "teacher-xl"};  // gap study
  bool smoke = false;
  std::uint64_t seed_of_teachers() const { return teacher_seed.value_or(seed); }
};

struct Net {
  std::string name;
  nn::ConvNetSpec spec;
  std::int64_t params = 0, macs = 0;
};
// The ladder of the header comment, smallest first.
const std::vector<Net>& ladder();
const Net& net(const std::string& name);  // throws naming the known nets

struct TeacherEntry {
  std::shared_ptr<nn::Module> net;
  double acc = 0, seconds = 0;
  bool loaded = false;
};

// One chain: its stages' results, first stage first.
struct ChainRun {
  std::vector<std::string> path;          // teacher first, student last
  std::vector<kd::StageResult> stages;    // path.size() − 1 entries
  double seconds() const;                 // training time of every stage
  std::int64_t steps() const;
};

class Context {
 public:
  explicit Context(Args args);
  const Args& args() const { return args_; }
  const CifarData& data();

  // The net trained from labels for --teacher-epochs (memory, file, or training).
  TeacherEntry& teacher(const std::string& name);
  // The student trained from labels alone for --epochs (the no-teacher baseline).
  const RunResult& baseline(const std::string& name);
  // The chain path[0] → … → path.back() (path[0] a teacher from teacher()).
  ChainRun chain(const std::vector<std::string>& path);

  // Prints the table, writes OUT/<study>.csv and appends its cells to --csv.
  void report(const std::string& study, const Table& table);
  void write_epoch_rows() const;  // OUT/metrics.csv, every run's epochs

 private:
  std::shared_ptr<nn::Module> make(const std::string& name, std::uint64_t seed);
  std::string key(const std::string& name) const;
  Args args_;
  std::unique_ptr<CifarData> data_;
  std::unique_ptr<data::DataLoader> loader_, teacher_loader_;
  std::map<std::string, TeacherEntry> teachers_;
  std::map<std::string, RunResult> baselines_;
  std::map<std::string, kd::StageResult> stages_;  // by path prefix "a>b>c": the stage ending at c
  std::vector<EpochRow> rows_;
};

// The studies (study.cpp prints their tables; CSV and plots in OUT).
void chain_study(Context& c);  // direct KD vs one vs two assistants
void gap_study(Context& c);    // student accuracy vs teacher size
void sizes(Context& c);        // the ladder's specs, parameters and MACs (no training)

}  // namespace retort::examples::assistant
