// kd_adversarial: adversarial distillation (kd/adversarial.h, after Xu, Hsu & Huang 2017) next to
// plain KD on the same schedule, TeacherNet → StudentNet on CIFAR-10:
//   kd    w_ce·CE + w_kd·KD (the seed's 0.75/0.25 at T = 2); a discriminator is trained beside it
//         as an observer only (its loss never reaches the student), to measure how well D tells
//         this student's outputs from the teacher's
//   adv   the same + w_adv·L_adv, D trained alternately with the student (d_steps D steps, then
//         one student step, per batch), each with its own Adam
// Both runs start from the same student weights, the same D weights and see the same batches.
// Per epoch: test accuracy and D's accuracy (teacher vs student outputs, before D's step on each
// batch) in the progress line, OUT/metrics.csv, OUT/discriminator.csv and plots; a final table and
// OUT/adversarial.csv (or --csv). The teacher is trained once, or loaded (--teacher-ckpt).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "autograd/anomaly.h"
#include "common/flags.h"
#include "common/kd_experiment.h"
#include "common/progress.h"
#include "common/report.h"
#include "common/run_flags.h"
#include "kd/adversarial.h"
#include "nn/models.h"
#include "nn/serialization.h"
#include "optim/adam.h"
#include "retort.h"

using namespace retort;
using namespace retort::examples;

namespace {

struct Args {
  std::string data = "data-cache/cifar10", out = "kd_adversarial_out", csv, device = "cpu", teacher_ckpt;
  int epochs = 10, teacher_epochs = 5, threads = 2, d_steps = 1, d_hidden = 128;
  std::int64_t batch = 128, train_limit = -1, test_limit = -1;
  std::uint64_t seed = 42;
  double lr = 1e-3, T = 2.0, ce_weight = 0.75, kd_weight = 0.25, adv_weight = 1.0, d_lr = 2e-4, d_T = 0;
  bool features = false, smoke = false;
};

[[noreturn]] void usage(const std::string& why) {
  usage_exit(
      "kd_adversarial", why,
      "usage: kd_adversarial [--data DIR] [--epochs E] [--teacher-epochs E] [--teacher-ckpt F] [--seed S]\n"
      "                      [--threads N] [--device cpu|cuda|cuda:N] [--batch B] [--lr LR] [--T T]\n"
      "                      [--ce-weight W] [--kd-weight W] [--adv-weight W] [--d-steps K] [--d-lr LR]\n"
      "                      [--d-hidden H] [--d-T T] [--features] [--train-limit N] [--test-limit N]\n"
      "                      [--out DIR] [--csv FILE] [--smoke] [--detect-anomaly]\n"
      "Trains TeacherNet (or loads it), then two StudentNets from the same start on the same batches:\n"
      "  kd   ce-weight·CE + kd-weight·T²·KL (a discriminator trained beside it, observing only)\n"
      "  adv  the same + adv-weight·L_adv, the discriminator trained alternately with the student\n"
      "Defaults: students 10 epochs, teacher 5, batch 128, Adam lr 1e-3, T 2, weights 0.75/0.25/1;\n"
      "discriminator: MLP on softmax(z/d-T) (d-T defaults to T) with two hidden ReLU layers of\n"
      "--d-hidden 128, Adam lr --d-lr 2e-4 with beta1 0.5, --d-steps 1 per student step.\n"
      "--features: the discriminator also sees the attention maps of features.9 (teacher) and\n"
      "            features.5 (student), both 8x8.\n"
      "--teacher-ckpt F: load the teacher from F when it exists, else train it and save it there.\n"
      "--data DIR: data_batch_1..5.bin and test_batch.bin (default data-cache/cifar10).\n"
      "--train-limit/--test-limit N: the first N images of the split (default: all of it).\n"
      "--smoke: a run of well under a minute (640 train / 320 test images, teacher 1 epoch,\n"
      "         students 2 epochs, batch 64), overriding those flags; used by the tests.\n"
      "Outputs: OUT/adversarial.csv (or --csv), OUT/metrics.csv, OUT/discriminator.csv and, with\n"
      "gnuplot, OUT/adv_loss.png, adv_test_accuracy.png, adv_discriminator.png, adv_accuracy.png\n"
      "(--out, default kd_adversarial_out; checked writable before training starts).\n"
      "--detect-anomaly: stop at the first NaN/Inf in an op's output or gradient (docs/reliability.md).\n");
}

Args parse(int argc, char** argv) {
  Args a;
  Flags f(usage);
  for (auto [flag, field] : {std::pair{"--data", &a.data}, {"--out", &a.out}, {"--csv", &a.csv},
                             {"--device", &a.device}, {"--teacher-ckpt", &a.teacher_ckpt}})
    f.value(flag, *field);
  for (auto [flag, field] : {std::pair{"--epochs", &a.epochs}, {"--teacher-epochs", &a.teacher_epochs},
                             {"--threads", &a.threads}, {"--d-steps", &a.d_steps}, {"--d-hidden", &a.d_hidden}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--batch", &a.batch}, {"--train-limit", &a.train_limit},
                             {"--test-limit", &a.test_limit}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--lr", &a.lr}, {"--T", &a.T}, {"--d-lr", &a.d_lr}, {"--d-T", &a.d_T}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--ce-weight", &a.ce_weight}, {"--kd-weight", &a.kd_weight},
                             {"--adv-weight", &a.adv_weight}})
    f.value(flag, *field, Flags::non_negative);
  f.value("--seed", a.seed);
  f.set("--features", a.features);
  f.set("--smoke", a.smoke);
  f.action("--detect-anomaly", [] { autograd::set_detect_anomaly(true); });
  f.parse(argc, argv);
  if (a.smoke) {
    a.train_limit = 640;
    a.test_limit = 320;
    a.teacher_epochs = 1;
    a.epochs = 2;
    a.batch = 64;
  }
  if (a.d_T == 0) a.d_T = a.T;
  f.check(a.ce_weight + a.kd_weight > 0, "--ce-weight and --kd-weight are both 0: the student has no target");
  check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit, .device = a.device,
                      .out = a.out, .csv = a.csv});
  if (std::filesystem::exists(a.teacher_ckpt))
    f.input_file("--teacher-ckpt", a.teacher_ckpt);
  else
    f.output_file("--teacher-ckpt", a.teacher_ckpt);  // skipped when not given
  return a;
}

// D's verdicts of one epoch.
struct DiscriminatorRow {
  std::string run;
  int epoch;
  double acc, teacher_acc, student_acc, d_loss;
};

// The discriminator accuracy per epoch, one line per run, with the 50% chance level.
bool plot_discriminator(const std::string& csv, const std::string& png, const std::vector<std::string>& runs) {
  if (!gnuplot_available()) return true;
  try {
    run_gnuplot(png.substr(0, png.size() - 4) + ".gp", {png}, [&](const std::vector<std::string>& out) {
      std::string gp = "set datafile separator ','\nset terminal pngcairo noenhanced size 900,500\nset output '" +
                       out[0] + "'\nset xlabel 'epoch'\nset ylabel 'discriminator accuracy (%)'\nset yrange [0:100]\n"
                       "plot 50 with lines dashtype 2 title 'chance'";
      for (const auto& r : runs)
        gp += ", '< grep ^" + r + ", " + csv + "' using 2:3 with linespoints title '" + r + "'";
      return gp + "\nunset output\n";
    });
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "plot not written: %s\n", e.what());
    return false;
  }
  std::printf("plot: %s\n", png.c_str());
  return true;
}

int run(const Args& a) {
  set_num_threads(a.threads);
  std::filesystem::create_directories(a.out);
  CifarData d = load_data({a.data, a.train_limit, a.test_limit, parse_device(a.device)});
  auto loader = make_loader(d, a.batch, a.seed, false);
  std::printf("CIFAR-10 from %s: %lld train / %lld test images; students %d epochs, batch %lld, Adam lr %g, "
              "T %g, weights ce %g kd %g adv %g; D: %d x %d ReLU on softmax(z/%g)%s, Adam %g, %d step(s); %d threads\n",
              a.data.c_str(), static_cast<long long>(d.train_labels.numel()),
              static_cast<long long>(d.test_labels.numel()), a.epochs, static_cast<long long>(a.batch), a.lr, a.T,
              a.ce_weight, a.kd_weight, a.adv_weight, 2, a.d_hidden, a.d_T, a.features ? " + attention maps" : "",
              a.d_lr, a.d_steps, a.threads);

  std::vector<EpochRow> rows;
  manual_seed(a.seed);
  auto teacher = std::make_shared<nn::TeacherNet>();
  const bool load = !a.teacher_ckpt.empty() && std::filesystem::exists(a.teacher_ckpt);
  RunResult tr = load ? load_and_evaluate(*teacher, "teacher", a.teacher_ckpt, d)
                      : train_run(*teacher, cross_entropy_objective(), *loader, d,
                                  {.name = "teacher", .epochs = a.teacher_epochs, .lr = a.lr}, rows);
  if (!load && !a.teacher_ckpt.empty()) nn::save_safetensors(*teacher, a.teacher_ckpt);
  teacher->eval();
  teacher->requires_grad_(false);
  const std::string s_tap = a.features ? "features.5" : "", t_tap = a.features ? "features.9" : "";
  TeacherCache cache = cache_teacher(*teacher, d.train_norm, a.features ? std::vector<std::string>{t_tap}
                                                                        : std::vector<std::string>{});

  Table table{"kd_adversarial: StudentNet from TeacherNet on CIFAR-10 (test accuracy %; D accuracy % in the last "
              "epoch)",
              {"run", "terms", "last acc", "best acc", "D acc", "train time", "img/s"}, {}};
  table.add({"(teacher)", "ce 1", fmt(tr.last, 2), fmt(tr.best, 2), "-", load ? "-" : clock_str(tr.seconds),
             load ? "-" : fmt(tr.images_per_second, 0)});
  std::vector<DiscriminatorRow> drows;
  const std::vector<std::string> names{"kd", "adv"};
  for (const std::string& name : names) {
    const bool adversarial = name == "adv";
    std::printf("\n== %s\n", name.c_str());
    manual_seed(a.seed);  // the same student and discriminator weights in both runs
    auto student = std::make_shared<nn::StudentNet>();
    const std::int64_t hw = a.features ? 8 * 8 : 0;
    auto disc = std::make_shared<kd::Discriminator>(kd::discriminator_in_features(10, hw),
                                                    std::vector<std::int64_t>{a.d_hidden, a.d_hidden});
    disc->to(d.device);
    auto d_opt = std::make_shared<optim::Adam>(disc->parameters(), optim::AdamOptions{.lr = a.d_lr, .beta1 = 0.5});
    kd::AdversarialKD adv(disc, d_opt, {.T = a.d_T, .d_steps = a.d_steps, .student_tap = s_tap, .teacher_tap = t_tap});
    Objective obj = cross_entropy_objective();
    obj.terms[0].weight = a.ce_weight;
    obj.terms.push_back(seed_kl_term(a.T, a.kd_weight));
    if (adversarial) obj.terms.push_back(adv.term(a.adv_weight));
    if (a.features) {
      obj.student_taps = {s_tap};
      obj.teacher_taps = {t_tap};
    }
    obj.on_context = [&](const kd::Context& c) { adv.discriminator_step(c); };
    std::string terms = "ce " + short_double(a.ce_weight) + " + kd " + short_double(a.kd_weight) +
                        (adversarial ? " + adv " + short_double(a.adv_weight) : " (D observes)");
    double last_d = 0;
    RunOptions ro{.name = name, .epochs = a.epochs, .lr = a.lr, .teacher = teacher.get(), .cache = &cache,
                  .restart_epochs = true};
    ro.epoch_note = [&] {
      const kd::AdversarialStats& s = adv.stats();
      char buf[96];
      std::snprintf(buf, sizeof buf, "D acc %.1f%% (teacher %.1f%%, student %.1f%%) L_D %.3f",
                    100 * s.counts.accuracy(), 100 * s.counts.teacher_accuracy(), 100 * s.counts.student_accuracy(),
                    s.mean_d_loss());
      return std::string(buf);
    };
    ro.on_epoch = [&](int e, double) {
      const kd::AdversarialStats& s = adv.stats();
      last_d = 100 * s.counts.accuracy();
      drows.push_back({name, e, last_d, 100 * s.counts.teacher_accuracy(), 100 * s.counts.student_accuracy(),
                       s.mean_d_loss()});
      adv.reset_stats();
    };
    RunResult r = train_run(*student, obj, *loader, d, ro, rows);
    table.add({name, terms, fmt(r.last, 2), fmt(r.best, 2), fmt(last_d, 1), clock_str(r.seconds),
               fmt(r.images_per_second, 0)});
  }
  table.print();
  const std::string csv = a.csv.empty() ? a.out + "/adversarial.csv" : a.csv;
  table.write_csv(csv);
  write_epoch_csv(a.out + "/metrics.csv", rows);
  Table dt{"", {"run", "epoch", "d_acc", "d_acc_teacher", "d_acc_student", "d_loss"}, {}};
  for (const auto& r : drows)
    dt.add({r.run, std::to_string(r.epoch), fmt(r.acc, 2), fmt(r.teacher_acc, 2), fmt(r.student_acc, 2),
            fmt(r.d_loss, 4)});
  dt.write_csv(a.out + "/discriminator.csv");
  std::printf("results: %s, per-epoch metrics: %s/metrics.csv, discriminator: %s/discriminator.csv\n", csv.c_str(),
              a.out.c_str(), a.out.c_str());
  plot_bars(csv, a.out + "/adv_accuracy.png", "kd_adversarial: test accuracy", "test accuracy (%)", {3, 4});
  plot_epochs(a.out + "/metrics.csv", a.out, names, "adv_");
  const bool d_plot = plot_discriminator(a.out + "/discriminator.csv", a.out + "/adv_discriminator.png", names);
  return plot_failures() > 0 || !d_plot ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nkd_adversarial: %s\n", e.what());
    return 1;
  }
}
