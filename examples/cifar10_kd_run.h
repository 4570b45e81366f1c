// The CIFAR-10 KD experiment behind examples/cifar10_kd: options, and run_cifar10_kd() which
// trains teacher, baseline student and KD student on the shared harness
// (common/kd_experiment.h, also used by kd_zoo and kd_studies) and reports them.
#pragma once
#include <cstdint>
#include <string>

#include "common/run_checkpoint.h"

namespace retort::examples {

struct KdArgs {
  std::string data = "data-cache/cifar10";
  int teacher_epochs = 5;
  int student_epochs = 10;
  double T = 2.0, kd_weight = 0.25, ce_weight = 0.75, lr = 1e-3;
  std::int64_t batch = 128;
  std::uint64_t seed = 42;
  int threads = 2;
  std::string device = "cpu";  // cpu, cuda or cuda:N
  bool augment = false;
  bool cache_teacher_logits = false;
  bool distributed = false, scale_batch = false;  // --distributed, --scale-batch (common/distributed.h)
  std::string save_teacher, load_teacher, csv, out = "cifar10_kd_out";
  std::int64_t train_limit = -1, test_limit = -1;
  CheckpointOptions checkpoint;
};

// Returns the process exit code.
int run_cifar10_kd(const KdArgs& args);

}  // namespace retort::examples
