// cifar10_kd: the seed knowledge-distillation experiment on CIFAR-10 (the same protocol as
// ../shared/bench/torch_seed_kd.py): ImageNet mean/std normalisation, no augmentation by default,
// Adam, batch 128, seed set before building each model;
//   (1) TeacherNet trained with cross-entropy,
//   (2) a baseline StudentNet trained with cross-entropy,
//   (3) a StudentNet trained with  kd_weight·T²·KL(softmax(t/T) ‖ softmax(s/T)) + ce_weight·CE,
//       the teacher frozen in eval mode (its logits computed under no_grad).
// Prints a progress line per batch, test accuracy per epoch, and a final table; writes a CSV of
// per-epoch metrics (and PNG plots when gnuplot is installed). Flags: see usage().
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "autograd/anomaly.h"
#include "cifar10_kd_run.h"
#include "common/distributed.h"
#include "common/flags.h"
#include "common/kd_experiment.h"
#include "common/run_flags.h"

using namespace retort;
using examples::KdArgs;

namespace {

[[noreturn]] void usage(const std::string& why) {
  examples::usage_exit(
      "cifar10_kd", why,
      "usage: cifar10_kd [--data DIR] [--full] [--epochs E] [--teacher-epochs E] [--student-epochs E]\n"
      "                  [--T T] [--kd-weight W] [--ce-weight W] [--lr LR] [--batch B] [--seed S]\n"
      "                  [--threads N] [--augment] [--cache-teacher-logits] [--save-teacher F]\n"
      "                  [--load-teacher F] [--csv FILE] [--out DIR] [--train-limit N] [--test-limit N]\n"
      "                  [--device cpu|cuda|cuda:N] [--checkpoint-dir DIR] [--checkpoint-every N] [--resume]\n"
      "                  [--detect-anomaly] [--distributed [--scale-batch]]\n"
      "defaults: teacher 5 epochs, students 10 epochs (--full: the seed protocol, 10 and 10)\n"
      "--data DIR: data_batch_1..5.bin and test_batch.bin, in DIR or in DIR/cifar-10-batches-bin\n"
      "            (default data-cache/cifar10; scripts/get-cifar10.sh DIR fetches them)\n"
      "--train-limit/--test-limit N: the first N images of the split (default: all of it)\n"
      "--teacher-epochs 0 needs --load-teacher F. Outputs (--out, --csv, --save-teacher) are\n"
      "checked writable before training starts.\n"
      "--detect-anomaly: stop at the first NaN/Inf in an op's output or gradient, naming the op and its\n"
      "shapes (autograd's anomaly mode for the whole run; slower; see docs/reliability.md).\n"
      "--distributed: data-parallel over the processes of an MPI job (mpirun -np N cifar10_kd --distributed\n"
      "            --threads T ...): --batch is the global batch (each rank B/N) unless --scale-batch makes it\n"
      "            N·B; rank 0 prints and writes the outputs (docs/distributed.md).\n" +
          std::string(examples::kCheckpointUsage));
}

KdArgs parse(int argc, char** argv) {
  using examples::Flags;
  KdArgs a;
  Flags f(usage);
  f.value("--data", a.data);
  f.action("--full", [&] { a.teacher_epochs = a.student_epochs = 10; });
  f.custom("--epochs", [&](const std::string& v) {
    a.teacher_epochs = a.student_epochs = f.to_int("--epochs", v, Flags::positive);
  });
  f.value("--teacher-epochs", a.teacher_epochs, Flags::non_negative);
  f.value("--student-epochs", a.student_epochs, Flags::positive);
  f.value("--T", a.T, Flags::positive);
  f.value("--kd-weight", a.kd_weight, Flags::non_negative);
  f.value("--ce-weight", a.ce_weight, Flags::non_negative);
  f.value("--lr", a.lr, Flags::positive);
  f.value("--batch", a.batch, Flags::positive);
  f.value("--seed", a.seed);
  f.value("--threads", a.threads, Flags::positive);
  f.value("--device", a.device);
  f.set("--augment", a.augment);
  f.set("--cache-teacher-logits", a.cache_teacher_logits);
  f.value("--save-teacher", a.save_teacher);
  f.value("--load-teacher", a.load_teacher);
  f.value("--csv", a.csv);
  f.value("--out", a.out);
  f.value("--train-limit", a.train_limit, Flags::positive);
  f.value("--test-limit", a.test_limit, Flags::positive);
  examples::add_checkpoint_flags(f, a.checkpoint);
  f.action("--detect-anomaly", [] { autograd::set_detect_anomaly(true); });
  f.set("--distributed", a.distributed);
  f.set("--scale-batch", a.scale_batch);
  f.parse(argc, argv);
  f.check(!a.scale_batch || a.distributed, "--scale-batch needs --distributed");
  f.check(a.checkpoint.every_batches >= 0, "--checkpoint-every must be >= 0");
  f.check(!a.checkpoint.resume || !a.checkpoint.dir.empty(), "--resume needs --checkpoint-dir");
  f.check(a.teacher_epochs > 0 || !a.load_teacher.empty(),
          "--teacher-epochs 0 trains no teacher: give --load-teacher F, or at least 1 epoch");
  f.check(!(a.cache_teacher_logits && a.augment),
          "--cache-teacher-logits is exact only without --augment; use one or the other");
  examples::check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit,
                                .device = a.device, .load_teacher = a.load_teacher, .out = a.out,
                                .csv = a.csv.empty() ? a.out + "/metrics.csv" : a.csv, .batch_pairs = false});
  f.output_file("--save-teacher", a.save_teacher);
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  KdArgs a = parse(argc, argv);
  try {
    if (a.distributed) {
      examples::start_distributed(a.scale_batch);
      a.device = examples::rank_device(a.device);
    }
    return examples::run_program([&] { return examples::run_cifar10_kd(a); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\ncifar10_kd: %s\n", e.what());
    return 1;
  }
}
