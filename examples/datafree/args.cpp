// kd_datafree's flags: every knob of both methods, with the references' defaults where they fit
// this machine (docs/kd.md says which are scaled down), and --smoke's tiny schedule for the tests.
#include "datafree/args.h"

#include "common/flags.h"
#include "nn/zoo.h"
#include "zoo/args.h"

namespace retort::examples::datafree {

namespace {

[[noreturn]] void usage(const std::string& why) {
  usage_exit(
      "kd_datafree", why,
      "usage: kd_datafree [--method inversion|dafl|all] [--data DIR] [--teacher-ckpt F] [--teacher NAME]\n"
      "                   [--student NAME] [--epochs E] [--teacher-epochs E] [--baseline kd|none]\n"
      "                   [--baseline-epochs E] [--train-limit N] [--test-limit N] [--batch B] [--lr LR] [--T T]\n"
      "                   [--di-images N] [--di-batch B] [--di-iters N] [--di-lr LR] [--di-bn W] [--di-tv W]\n"
      "                   [--di-l2 W] [--dafl-iters N] [--latent L] [--gen-width W] [--lr-g LR] [--dafl-oh W]\n"
      "                   [--dafl-a W] [--dafl-ie W] [--seed S] [--threads N] [--device cpu|cuda|cuda:N]\n"
      "                   [--out DIR] [--csv FILE] [--smoke]\n"
      "Distils a CIFAR-10 student from a BatchNorm teacher without a training image: DeepInversion\n"
      "(--method inversion: images optimised to match the teacher's BN statistics and target classes)\n"
      "or DAFL (--method dafl: a generator trained against the teacher, the student distilled on its\n"
      "images). The teacher is trained on the training split first unless --teacher-ckpt F exists (then\n"
      "it is loaded; else trained and saved there). The data-free phase reads only the test split, for\n"
      "evaluation; the program refuses to open the training split while it runs. --baseline kd then trains\n"
      "the data-driven KD student (CE 0.1 + KD 0.9 on the training split) for comparison; --baseline none\n"
      "skips it, so with a teacher checkpoint the training files are never read at all.\n"
      "--teacher: a zoo network with BatchNorm (default resnet8); --student: StudentNet (default) or a zoo\n"
      "name. Students: Adam --lr (1e-3), batch --batch (128), KD at --T (4) from the teacher.\n"
      "inversion: --di-images (1280) images in batches of --di-batch (128), --di-iters (200) Adam steps each\n"
      "at --di-lr (0.1), loss CE + --di-bn (10)·BN + --di-tv (1e-3)·TV + --di-l2 (0)·L2; then --epochs (10)\n"
      "epochs of KD on them with crop + flip.\n"
      "dafl: --dafl-iters (400) steps of batch --batch, generator of --gen-width (64; the reference's 128)\n"
      "and --latent (1000) trained by Adam --lr-g (0.02) on --dafl-oh (1)·L_oh + --dafl-a (0.1)·L_a +\n"
      "--dafl-ie (5)·L_ie; evaluated --epochs times.\n"
      "--smoke: a tiny schedule for the tests (500 train / 200 test images, teacher 1 epoch, a few\n"
      "inversion and DAFL steps); it replaces the schedule flags.\n"
      "Outputs in --out: datafree.csv (or --csv), metrics.csv, images_<method>.png (one row per class),\n"
      "plots with gnuplot.\n");
}

}  // namespace

Args parse_args(int argc, char** argv) {
  Args a;
  Options& o = a.o;
  o.gen_width = 64;
  Flags f(usage);
  for (auto [flag, field] : {std::pair{"--method", &a.method}, {"--data", &a.data}, {"--device", &a.device},
                             {"--out", &a.out}, {"--csv", &a.csv}, {"--teacher-ckpt", &a.teacher_ckpt},
                             {"--teacher", &a.teacher}, {"--student", &a.student}, {"--baseline", &a.baseline}})
    f.value(flag, *field);
  f.value("--epochs", o.epochs, Flags::positive);
  f.value("--teacher-epochs", a.teacher_epochs, Flags::positive);
  f.value("--baseline-epochs", a.baseline_epochs, Flags::positive);
  f.value("--threads", a.threads, Flags::positive);
  f.value("--train-limit", a.train_limit, Flags::positive);
  f.value("--test-limit", a.test_limit, Flags::positive);
  f.value("--batch", o.batch, Flags::positive);
  f.value("--lr", o.lr, Flags::positive);
  f.value("--T", o.T, Flags::positive);
  f.value("--seed", o.seed);
  f.value("--di-images", o.di_images, Flags::positive);
  f.value("--di-batch", o.di_batch, Flags::positive);
  f.value("--di-iters", o.di.iterations, Flags::positive);
  f.value("--di-lr", o.di.lr, Flags::positive);
  f.value("--di-bn", o.di.r_feature, Flags::non_negative);
  f.value("--di-tv", o.di.tv, Flags::non_negative);
  f.value("--di-l2", o.di.l2, Flags::non_negative);
  f.value("--dafl-iters", o.dafl_iters, Flags::positive);
  f.value("--latent", o.latent, Flags::positive);
  f.value("--gen-width", o.gen_width, Flags::positive);
  f.value("--lr-g", o.lr_g, Flags::positive);
  f.value("--dafl-oh", o.dafl.oh, Flags::non_negative);
  f.value("--dafl-a", o.dafl.a, Flags::non_negative);
  f.value("--dafl-ie", o.dafl.ie, Flags::non_negative);
  f.set("--smoke", a.smoke);
  f.parse(argc, argv);
  f.check(a.method == "inversion" || a.method == "dafl" || a.method == "all",
          "--method '" + a.method + "': inversion, dafl or all");
  f.check(a.baseline == "kd" || a.baseline == "none", "--baseline '" + a.baseline + "': kd or none");
  f.check(o.gen_width % 2 == 0, "--gen-width must be even");
  f.check(o.batch <= (a.train_limit > 0 ? a.train_limit : 50000),
          "--batch " + std::to_string(o.batch) + " is larger than the train split");
  f.check(a.threads <= kMaxThreads, "--threads: at most " + std::to_string(kMaxThreads));
  if (a.smoke) {
    a.train_limit = 500;
    a.test_limit = 200;
    a.teacher_epochs = 1;
    o.epochs = 1;
    o.batch = 32;
    o.di_images = 20;
    o.di_batch = 20;
    o.di.iterations = 5;
    o.dafl_iters = 5;
    o.latent = 64;
    o.gen_width = 16;
  }
  f.check(!a.runs("dafl") || o.dafl_iters >= o.epochs,
          "--dafl-iters " + std::to_string(o.dafl_iters) + " is fewer than --epochs " + std::to_string(o.epochs) +
              " (DAFL is evaluated once per epoch)");
  if (a.baseline_epochs < 0) a.baseline_epochs = o.epochs;
  try {
    a.teacher = nn::canonical_model_name(a.teacher);
    if (!zoo::is_seed_net(a.student)) a.student = nn::canonical_model_name(a.student);
    parse_device(a.device);
  } catch (const std::exception& e) {
    usage(e.what());
  }
  f.output_dir("--out", a.out);
  f.output_file("--csv", a.csv);
  f.output_file("--teacher-ckpt", a.teacher_ckpt);
  return a;
}

}  // namespace retort::examples::datafree
