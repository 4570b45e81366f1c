// The presets are resolved here, once, so the rest of kd_zoo reads plain values; "given" flags are
// tracked so that a preset never overrides what the user typed.
#include "zoo/args.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>

#include "autograd/anomaly.h"
#include "common/flags.h"
#include "nn/models.h"
#include "nn/zoo.h"
#include "zoo/losses.h"

namespace retort::examples::zoo {

namespace {

[[noreturn]] void usage(const std::string& why) {
  usage_exit(
      "kd_zoo", why,
      "usage: kd_zoo [--loss SPEC|all] [--teacher NAME] [--student NAME] [--dataset cifar10|cifar100]\n"
      "              [--protocol seed|repdistiller] [--data DIR] [--epochs E] [--teacher-epochs E]\n"
      "              [--teacher-ckpt F] [--load-teacher F] [--save-teacher F] [--train-limit N] [--test-limit N]\n"
      "              [--batch B] [--lr LR] [--augment|--no-augment] [--seed S] [--threads N] [--crd-k K]\n"
      "              [--csv FILE] [--out DIR] [--device cpu|cuda|cuda:N] [--costs]\n"
      "              [--checkpoint-dir DIR] [--checkpoint-every N] [--resume] [--detect-anomaly]\n"
      "              [--distributed [--scale-batch]]\n"
      "SPEC: comma-separated NAME[:WEIGHT]; a missing weight is the reference one below; CE is added\n"
      "with the first loss's reference CE weight unless listed ('ce:0,kd' = KD alone). 'all': each\n"
      "loss in turn as CE + that loss.\n"
      "--teacher/--student: TeacherNet and StudentNet (the seed nets, the defaults) or a model-zoo name\n"
      "(zoo_info lists them: resnet8x4, resnet32x4, wrn_40_2, vgg13, MobileNetV2, ShuffleV2, ...; any\n"
      "case). Feature losses read RepDistiller's stages of zoo networks (docs/kd.md).\n"
      "--dataset: cifar10 (default; --data default data-cache/cifar10) or cifar100 (data-cache/cifar100,\n"
      "fine labels; scripts/get-cifar100.sh prepares it).\n"
      "--protocol seed: Adam lr 1e-3, batch 128, no augmentation, students 10 epochs, teacher 5 (default\n"
      "for the seed nets). --protocol repdistiller: SGD momentum 0.9, weight decay 5e-4, batch 64, 240\n"
      "epochs, lr 0.05 (0.01 for MobileNetV2/ShuffleV1/ShuffleV2) x0.1 after epochs 150/180/210 (the same\n"
      "fractions of a shorter run), random crop + flip (default when a zoo network is named). Flags given\n"
      "explicitly override the preset (--no-augment turns the preset's augmentation off). With augmentation\n"
      "the teacher runs on every batch (no cache).\n"
      "--teacher-ckpt F: load the teacher from F when it exists, else train it and save it there (train\n"
      "once, reuse). --csv: the results table (default OUT/zoo.csv); per-epoch rows go to OUT/metrics.csv.\n"
      "--costs: no training; each loss's analytic FLOPs/bytes (where kd/cost.h has a model) and measured\n"
      "forward/backward time and peak memory for one batch of --batch random images (CPU).\n"
      "--train-limit/--test-limit N: the first N images of the split (default: all of it).\n"
      "--teacher-epochs 0 needs a teacher to load. Outputs are checked writable before training.\n"
      "--distributed: data-parallel over an MPI job (mpirun -np N kd_zoo --distributed --threads T ...);\n"
      "--batch stays the global batch unless --scale-batch (docs/distributed.md). CRD's memory bank is\n"
      "per rank (each rank updates it from its own samples).\n"
      "--detect-anomaly: stop at the first NaN/Inf in an op's output or gradient, naming the op and its\n"
      "shapes (autograd's anomaly mode for the whole run; slower; see docs/reliability.md).\n" +
          std::string(kCheckpointUsage) + loss_help());
}

}  // namespace

bool is_seed_net(const std::string& name) { return name == "TeacherNet" || name == "StudentNet"; }

std::shared_ptr<nn::Module> make_net(const std::string& name, std::int64_t classes) {
  if (name == "TeacherNet") return std::make_shared<nn::TeacherNet>(3, classes);
  if (name == "StudentNet") return std::make_shared<nn::StudentNet>(3, classes);
  return nn::create_model(name, classes);
}

double Args::lr_for(const std::string& net) const {
  if (lr_given || !repdistiller()) return lr;
  return is_seed_net(net) ? 0.05 : nn::zoo_base_lr(net);
}

std::optional<SgdProtocol> Args::sgd(int run_epochs) const {
  if (!repdistiller()) return std::nullopt;
  SgdProtocol p;
  p.milestones = scaled_milestones(run_epochs);
  return p;
}

Args parse_args(int argc, char** argv) {
  Args a;
  Flags f(usage);
  bool epochs_given = false, teacher_epochs_given = false, batch_given = false, no_augment = false;
  for (auto [flag, field] : {std::pair{"--loss", &a.loss}, {"--data", &a.data}, {"--load-teacher", &a.load_teacher},
                             {"--save-teacher", &a.save_teacher}, {"--teacher-ckpt", &a.teacher_ckpt},
                             {"--device", &a.device}, {"--csv", &a.csv}, {"--out", &a.out}, {"--teacher", &a.teacher},
                             {"--student", &a.student}, {"--dataset", &a.dataset}, {"--protocol", &a.protocol}})
    f.value(flag, *field);
  f.custom("--epochs", [&](const std::string& v) { a.epochs = f.to_int("--epochs", v, Flags::positive); epochs_given = true; });
  f.custom("--teacher-epochs", [&](const std::string& v) {
    a.teacher_epochs = f.to_int("--teacher-epochs", v, Flags::non_negative);
    teacher_epochs_given = true;
  });
  f.custom("--batch", [&](const std::string& v) { a.batch = f.to_int("--batch", v, Flags::positive); batch_given = true; });
  f.custom("--lr", [&](const std::string& v) { a.lr = f.to_double("--lr", v, Flags::positive); a.lr_given = true; });
  f.value("--threads", a.threads, Flags::positive);
  f.value("--train-limit", a.train_limit, Flags::positive);
  f.value("--test-limit", a.test_limit, Flags::positive);
  f.value("--crd-k", a.crd_k, Flags::positive);
  f.value("--seed", a.seed);
  f.set("--augment", a.augment);
  f.set("--no-augment", no_augment);
  f.set("--costs", a.costs);
  f.set("--distributed", a.distributed);
  f.set("--scale-batch", a.scale_batch);
  add_checkpoint_flags(f, a.checkpoint);
  f.action("--detect-anomaly", [] { autograd::set_detect_anomaly(true); });
  f.parse(argc, argv);
  f.check(!a.scale_batch || a.distributed, "--scale-batch needs --distributed");
  f.check(!(a.costs && a.distributed), "--costs measures one process; leave out --distributed");
  f.check(a.dataset == "cifar10" || a.dataset == "cifar100", "--dataset '" + a.dataset + "': cifar10 or cifar100");
  try {
    for (std::string* net : {&a.teacher, &a.student})
      if (!is_seed_net(*net)) *net = nn::canonical_model_name(*net);
    if (a.loss != "all") parse_losses(a.loss);
    parse_device(a.device);
  } catch (const std::exception& e) {
    std::string why = e.what();
    if (why.rfind("kd_zoo: ", 0) == 0) why = why.substr(8);
    usage(why);
  }
  if (a.protocol.empty()) a.protocol = is_seed_net(a.teacher) && is_seed_net(a.student) ? "seed" : "repdistiller";
  f.check(a.protocol == "seed" || a.protocol == "repdistiller", "--protocol '" + a.protocol + "': seed or repdistiller");
  if (a.repdistiller()) {
    if (!batch_given) a.batch = 64;
    if (!epochs_given) a.epochs = 240;
    if (!teacher_epochs_given) a.teacher_epochs = 240;
    a.augment = true;
  }
  f.check(!(a.augment && no_augment && !a.repdistiller()), "--augment and --no-augment contradict each other");
  if (no_augment) a.augment = false;
  if (a.data.empty()) a.data = "data-cache/" + a.dataset;
  f.check(a.checkpoint.every_batches >= 0, "--checkpoint-every must be >= 0");
  f.check(!a.checkpoint.resume || !a.checkpoint.dir.empty(), "--resume needs --checkpoint-dir");
  // Relation losses compare the samples of a batch with each other: one sample has no pairs.
  f.check(a.batch >= 2, "--batch " + std::to_string(a.batch) + " is too small (the relation losses need >= 2)");
  f.check(a.threads <= kMaxThreads,
          "--threads " + std::to_string(a.threads) + " is more than " + std::to_string(kMaxThreads));
  f.check(is_seed_net(a.teacher) == is_seed_net(a.student) || a.loss == "kd" || a.loss == "ce",
          "--teacher " + a.teacher + " and --student " + a.student +
              ": a seed net and a zoo net pair only with the logit losses here (--loss kd or ce)");
  f.check(a.teacher_ckpt.empty() || (a.load_teacher.empty() && a.save_teacher.empty()),
          "--teacher-ckpt replaces --load-teacher/--save-teacher; give one or the other");
  if (a.costs) return a;  // no data, no training, no files
  if (!a.teacher_ckpt.empty()) {
    if (std::filesystem::exists(a.teacher_ckpt)) a.load_teacher = a.teacher_ckpt;
    else a.save_teacher = a.teacher_ckpt;
  }
  const std::int64_t train_size = a.train_limit > 0 ? a.train_limit : kCifar10TrainSize;
  f.check(a.batch <= train_size, "--batch " + std::to_string(a.batch) + " is larger than the train split (" +
                                     std::to_string(train_size) + " images)");
  f.check(a.teacher_epochs > 0 || !a.load_teacher.empty(),
          "--teacher-epochs 0 trains no teacher: give --load-teacher F (or --teacher-ckpt F), or at least 1 epoch");
  f.input_file("--load-teacher", a.load_teacher);
  f.output_dir("--out", a.out);
  f.output_file("--csv", a.csv.empty() ? a.out + "/zoo.csv" : a.csv);
  f.output_file("--save-teacher", a.save_teacher);
  return a;
}

}  // namespace retort::examples::zoo
