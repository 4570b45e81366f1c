// The shared state of examples/kd_studies (namespace retort::examples::studies): options, the
// data and loaders, a teacher store, and a memo of training runs so that a run needed by several
// studies (the CE baseline, the seed KD student) is trained once per process.
//
// Epoch lists: a study's nominal list (e.g. 5/10/20 distillation epochs) is used as given when
// the relevant flag is ≥ 10 (the seed protocol's epochs) and scaled by flag/10 otherwise:
// round(v·flag/10), at least 1, duplicates dropped. Student lists scale with --epochs, teacher
// lists with --teacher-epochs.
//
// Runs are prefixes of each other: every run starts from manual_seed(seed), sees the loader's
// epochs 0, 1, … (restart_epochs), uses Adam at a constant learning rate and draws nothing else
// from the global generator while it trains, so the first E epochs of a longer run are the
// E-epoch run. The memo therefore answers a request for E epochs from any run of the same key
// with ≥ E epochs, and a teacher trained for 2 epochs is the epoch-2 snapshot of a longer
// teacher run.
//
// Teachers are saved as OUT/teacher_<key>.safetensors with the key (epochs, training-set size,
// seed, held-out classes, data directory) in the file's metadata, and loaded instead of
// retrained when the key matches.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/kd_experiment.h"
#include "common/report.h"
#include "nn/models.h"

namespace retort::examples::studies {

struct Args {
  std::string study, data = "data-cache/cifar10", out = "kd_studies_out", csv, device = "cpu";
  int epochs = 10, teacher_epochs = 10, threads = 2;
  std::int64_t train_limit = -1, test_limit = -1, batch = 128;
  double lr = 1e-3;
  double timing = 2.0;  // seconds per size-speed measurement
  std::uint64_t seed = 42;
  CheckpointOptions checkpoint;  // every train_run of every study (common/run_checkpoint.h)
};

std::vector<int> scale_epochs(const std::vector<int>& nominal, int flag);

// One training run. `key` names it for the memo: equal keys must describe equal runs.
struct RunSpec {
  std::string key, name;
  int epochs = 1;
  std::function<std::shared_ptr<nn::Module>()> make_student;  // default: StudentNet
  std::function<Objective()> objective;                       // default: cross-entropy
  nn::Module* teacher = nullptr;
  const TeacherCache* cache = nullptr;  // teacher logits (leave null with augmentation)
  bool augment = false;
  std::vector<std::int64_t> holdout;    // classes removed from the training and test sets
};

struct Trained {
  std::shared_ptr<nn::Module> net;     // after `accs.size()` epochs
  std::vector<double> accs, seconds;   // per epoch: test accuracy, training seconds
  std::int64_t images = 0;             // training images per epoch
  RunResult result(int epochs) const;  // the first `epochs` epochs (≤ accs.size())
};

struct TeacherEntry {
  std::shared_ptr<nn::TeacherNet> net;
  double acc = 0;
  TeacherCache cache;  // logits of the (held-out-filtered) training set, filled on first use
};

class Context {
 public:
  explicit Context(Args args);
  const Args& args() const { return args_; }
  // The data without the held-out classes (all of it for an empty list), loaded once.
  const CifarData& data(const std::vector<std::int64_t>& holdout = {});
  data::DataLoader& loader(bool augment, const std::vector<std::int64_t>& holdout = {});

  // Teachers trained for each of `epochs` (ascending) on data(holdout): from memory, from
  // OUT/teacher_<key>.safetensors, or one training run to the largest missing count, saved at
  // every listed epoch. The entries' caches are filled on request by teacher_cache().
  std::vector<TeacherEntry*> teachers(const std::vector<int>& epochs, const std::vector<std::int64_t>& holdout = {});
  TeacherEntry& teacher(int epochs, const std::vector<std::int64_t>& holdout = {});
  const TeacherCache& teacher_cache(TeacherEntry& t, const std::vector<std::int64_t>& holdout = {});

  // The run, from the memo when a run of this key with ≥ spec.epochs epochs exists.
  const Trained& run(const RunSpec& spec);
  // The two runs most studies compare: CE baseline, and the seed KD student
  // kd_weight·T²·KL + ce_weight·CE from the teacher of `teacher_epochs` (0: --teacher-epochs),
  // its logits cached unless augment.
  RunSpec baseline_spec(int epochs, bool augment = false);
  RunSpec kd_spec(int epochs, double T, double kd_weight, double ce_weight, bool augment = false,
                  int teacher_epochs = 0);

  // Prints the table, writes OUT/<study>.csv, appends it to --csv, plots the value columns.
  void report(const std::string& study, const Table& table, const std::vector<int>& plot_columns,
              const std::string& ylabel);
  void write_epoch_rows() const;  // OUT/metrics.csv, every run's epochs

 private:
  std::string holdout_tag(const std::vector<std::int64_t>& holdout) const;
  Args args_;
  std::map<std::string, CifarData> data_;
  std::map<std::string, std::unique_ptr<data::DataLoader>> loaders_;
  std::map<std::string, TeacherEntry> teachers_;
  std::map<std::string, Trained> runs_;
  std::vector<EpochRow> rows_;
};

// The studies (studies/*.cpp); each prints its table and writes its CSV and plot.
void temperature(Context& c);
void weights(Context& c);
void teacher_quality(Context& c);
void small_student(Context& c);
void kl_vs_mse(Context& c);
void augmentation(Context& c);
void epochs(Context& c);
void size_speed(Context& c);
void transfer(Context& c);

}  // namespace retort::examples::studies
