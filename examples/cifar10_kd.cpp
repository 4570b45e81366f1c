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
#include "common/flags.h"

using namespace retort;
using examples::KdArgs;

namespace {

[[noreturn]] void usage(const std::string& bad) {
  std::fprintf(stderr,
               "cifar10_kd: %s\n"
               "usage: cifar10_kd [--data DIR] [--full] [--epochs E] [--teacher-epochs E] [--student-epochs E]\n"
               "                  [--T T] [--kd-weight W] [--ce-weight W] [--lr LR] [--batch B] [--seed S]\n"
               "                  [--threads N] [--augment] [--cache-teacher-logits] [--save-teacher F]\n"
               "                  [--load-teacher F] [--csv FILE] [--out DIR] [--train-limit N] [--test-limit N]\n"
               "                  [--device cpu|cuda|cuda:N] [--detect-anomaly]\n"
               "defaults: teacher 5 epochs, students 10 epochs (--full: the seed protocol, 10 and 10)\n"
               "--data DIR: data_batch_1..5.bin and test_batch.bin, in DIR or in DIR/cifar-10-batches-bin\n"
               "            (default data-cache/cifar10; scripts/get-cifar10.sh DIR fetches them)\n"
               "--detect-anomaly: stop at the first NaN/Inf in an op's output or gradient, naming the op and its\n"
               "shapes (autograd's anomaly mode for the whole run; slower; see docs/reliability.md).\n",
               bad.c_str());
  std::exit(2);
}

KdArgs parse(int argc, char** argv) {
  KdArgs a;
  examples::Flags f(usage);
  f.value("--data", a.data);
  f.action("--full", [&] { a.teacher_epochs = a.student_epochs = 10; });
  f.custom("--epochs", [&](const std::string& v) { a.teacher_epochs = a.student_epochs = f.to_int("--epochs", v); });
  f.value("--teacher-epochs", a.teacher_epochs);
  f.value("--student-epochs", a.student_epochs);
  f.value("--T", a.T);
  f.value("--kd-weight", a.kd_weight);
  f.value("--ce-weight", a.ce_weight);
  f.value("--lr", a.lr);
  f.value("--batch", a.batch);
  f.value("--seed", a.seed);
  f.value("--threads", a.threads);
  f.value("--device", a.device);
  f.set("--augment", a.augment);
  f.set("--cache-teacher-logits", a.cache_teacher_logits);
  f.value("--save-teacher", a.save_teacher);
  f.value("--load-teacher", a.load_teacher);
  f.value("--csv", a.csv);
  f.value("--out", a.out);
  f.value("--train-limit", a.train_limit);
  f.value("--test-limit", a.test_limit);
  f.action("--detect-anomaly", [] { autograd::set_detect_anomaly(true); });
  f.parse(argc, argv);
  if (a.teacher_epochs < 0 || a.student_epochs < 1 || a.batch < 1 || a.lr <= 0 || a.T <= 0 || a.threads < 1)
    usage("a value is out of range");
  if (a.cache_teacher_logits && a.augment)
    usage("--cache-teacher-logits is exact only without --augment; use one or the other");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  KdArgs a = parse(argc, argv);
  try {
    return examples::run_cifar10_kd(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\ncifar10_kd: %s\n", e.what());
    return 1;
  }
}
