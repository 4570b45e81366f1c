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

#include "cifar10_kd_run.h"

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
               "                  [--device cpu|cuda|cuda:N]\n"
               "defaults: teacher 5 epochs, students 10 epochs (--full: the seed protocol, 10 and 10)\n",
               bad.c_str());
  std::exit(2);
}

KdArgs parse(int argc, char** argv) {
  KdArgs a;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage(std::string("missing value for ") + argv[i]);
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--data") a.data = value(i);
    else if (k == "--full") a.teacher_epochs = a.student_epochs = 10;
    else if (k == "--epochs") a.teacher_epochs = a.student_epochs = std::stoi(value(i));
    else if (k == "--teacher-epochs") a.teacher_epochs = std::stoi(value(i));
    else if (k == "--student-epochs") a.student_epochs = std::stoi(value(i));
    else if (k == "--T") a.T = std::stod(value(i));
    else if (k == "--kd-weight") a.kd_weight = std::stod(value(i));
    else if (k == "--ce-weight") a.ce_weight = std::stod(value(i));
    else if (k == "--lr") a.lr = std::stod(value(i));
    else if (k == "--batch") a.batch = std::stoll(value(i));
    else if (k == "--seed") a.seed = std::stoull(value(i));
    else if (k == "--threads") a.threads = std::stoi(value(i));
    else if (k == "--device") a.device = value(i);
    else if (k == "--augment") a.augment = true;
    else if (k == "--cache-teacher-logits") a.cache_teacher_logits = true;
    else if (k == "--save-teacher") a.save_teacher = value(i);
    else if (k == "--load-teacher") a.load_teacher = value(i);
    else if (k == "--csv") a.csv = value(i);
    else if (k == "--out") a.out = value(i);
    else if (k == "--train-limit") a.train_limit = std::stoll(value(i));
    else if (k == "--test-limit") a.test_limit = std::stoll(value(i));
    else if (k == "--help" || k == "-h") usage("help");
    else usage("unknown flag " + k);
  }
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
