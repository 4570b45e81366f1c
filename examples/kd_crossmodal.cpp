// kd_crossmodal: cross-modal distillation on CIFAR-10 (after Gupta, Hoffman & Malik 2016). Every
// sample is a pair built from one CIFAR-10 image: the RGB image for the teacher and a modality
// computed from it for the student — grayscale (BT.601 luma), an edge map (Sobel gradient
// magnitude of the grayscale image), or both as two channels (data/modality.h). Per modality:
//   labels            StudentNet(Cm) on the modality, cross-entropy on the labels
//   teacher only      the same student, 1·T²·KL(teacher ‖ student) and no labels in its loss
//                     (kd::without_labels hands the term no targets): the teacher's outputs on
//                     the paired RGB images are all it learns from
//   labels + teacher  0.5·CE + 0.5·T²·KL
// plus the teacher (TeacherNet on RGB, CE) and an RGB StudentNet on labels for reference. The
// student sees only its modality: the loader yields the paired view [B, 3 + Cm, 32, 32] and the
// student is wrapped in nn::ChannelSlice(3, Cm), the teacher in ChannelSlice(0, 3). Without
// --augment the teacher's logits are cached (exact: the RGB half is the fixed normalised image);
// with it, crop + flip are applied to the RGB image before the pair is made, so both halves are
// the same view, and the teacher runs on every batch.
// Prints a progress line per batch, a line per epoch and the final table; writes
// OUT/crossmodal.csv (the table), OUT/metrics.csv (per epoch) and PNG plots with gnuplot.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/kd_experiment.h"
#include "common/progress.h"
#include "common/report.h"
#include "common/run_flags.h"
#include "data/cifar10.h"
#include "data/modality.h"
#include "data/transforms.h"
#include "kd/crossmodal.h"
#include "nn/channel_slice.h"
#include "nn/models.h"
#include "nn/serialization.h"
#include "retort.h"

using namespace retort;
using namespace retort::examples;

namespace {

struct Args {
  std::string data = "data-cache/cifar10", out = "kd_crossmodal_out", csv, device = "cpu", modality = "all",
              teacher_ckpt;
  int epochs = 10, teacher_epochs = 10, threads = 2;
  std::int64_t train_limit = -1, test_limit = -1, batch = 128;
  double lr = 1e-3, T = 4.0;
  std::uint64_t seed = 42;
  bool augment = false;
};

[[noreturn]] void usage(const std::string& why) {
  usage_exit("kd_crossmodal", why,
             "usage: kd_crossmodal [--smoke] [--data DIR] [--modality gray|edge|gray+edge|all] [--epochs E]\n"
             "                     [--teacher-epochs E] [--teacher-ckpt F] [--T T] [--augment] [--train-limit N]\n"
             "                     [--test-limit N] [--batch B] [--lr LR] [--seed S] [--threads N]\n"
             "                     [--device cpu|cuda|cuda:N] [--out DIR] [--csv FILE]\n"
             "Defaults: --modality all (gray, edge, gray+edge), students 10 epochs, teacher 10, T 4,\n"
             "batch 128, Adam lr 1e-3, --out kd_crossmodal_out, no augmentation.\n"
             "--smoke: --train-limit 512 --test-limit 256 --epochs 1 --teacher-epochs 1 --batch 64 (flags after\n"
             "         it override these).\n"
             "--teacher-ckpt F: load the RGB teacher from F when it exists, else train it and save it there.\n"
             "Writes OUT/crossmodal.csv (the table), OUT/metrics.csv (per epoch) and PNGs with gnuplot;\n"
             "--csv FILE: the table's CSV there as well. Outputs are checked writable before training.\n");
}

Args parse(int argc, char** argv) {
  Args a;
  Flags f(usage);
  f.action("--smoke", [&] {
    a.train_limit = 512;
    a.test_limit = 256;
    a.epochs = a.teacher_epochs = 1;
    a.batch = 64;
  });
  for (auto [flag, field] : {std::pair{"--data", &a.data}, {"--device", &a.device}, {"--out", &a.out},
                             {"--csv", &a.csv}, {"--modality", &a.modality}, {"--teacher-ckpt", &a.teacher_ckpt}})
    f.value(flag, *field);
  for (auto [flag, field] : {std::pair{"--epochs", &a.epochs}, {"--teacher-epochs", &a.teacher_epochs},
                             {"--threads", &a.threads}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--train-limit", &a.train_limit}, {"--test-limit", &a.test_limit},
                             {"--batch", &a.batch}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--lr", &a.lr}, {"--T", &a.T}}) f.value(flag, *field, Flags::positive);
  f.value("--seed", a.seed);
  f.set("--augment", a.augment);
  f.parse(argc, argv);
  f.check(a.modality == "all" || a.modality == "gray" || a.modality == "edge" || a.modality == "gray+edge",
          "--modality '" + a.modality + "': gray, edge, gray+edge or all");
  check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit, .device = a.device,
                      .out = a.out, .csv = a.csv});
  if (!std::filesystem::exists(a.teacher_ckpt)) f.output_file("--teacher-ckpt", a.teacher_ckpt);
  return a;
}

struct Row {
  std::string run, input, loss, labels;
  RunResult r;
};

// The RGB teacher: loaded from --teacher-ckpt, or trained with CE (and saved there).
std::shared_ptr<nn::TeacherNet> teacher(const Args& a, const CifarData& d, std::vector<EpochRow>& rows,
                                        std::vector<Row>& table) {
  auto t = std::make_shared<nn::TeacherNet>();
  RunResult r;
  if (!a.teacher_ckpt.empty() && std::filesystem::exists(a.teacher_ckpt)) {
    r = load_and_evaluate(*t, "teacher", a.teacher_ckpt, d);
  } else {
    manual_seed(a.seed);
    t = std::make_shared<nn::TeacherNet>();
    auto loader = make_loader(d, a.batch, a.seed, a.augment);
    r = train_run(*t, cross_entropy_objective(), *loader, d,
                  {.name = "teacher_rgb", .epochs = a.teacher_epochs, .lr = a.lr}, rows);
    if (!a.teacher_ckpt.empty()) {
      nn::save_safetensors(*t, a.teacher_ckpt);
      std::printf("teacher saved: %s\n", a.teacher_ckpt.c_str());
    }
  }
  table.push_back({"teacher", "rgb", "ce", "yes", r});
  t->eval();
  t->requires_grad_(false);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    const auto t0 = std::chrono::steady_clock::now();
    set_num_threads(a.threads);
    std::filesystem::create_directories(a.out);
    const CifarData d = load_data({a.data, a.train_limit, a.test_limit, parse_device(a.device)});
    const Tensor test_raw = data::load_cifar10(data::Split::Test, a.data, a.test_limit).images;
    std::vector<EpochRow> rows;
    std::vector<Row> table;
    std::vector<std::string> names;
    auto teacher_net = teacher(a, d, rows, table);
    auto teacher_view = std::make_shared<nn::ChannelSlice>(teacher_net, 0, 3);
    // Exact without augmentation: channels 0..2 of every paired sample are d.train_norm's row.
    TeacherCache cache;
    if (!a.augment) cache = cache_teacher(*teacher_net, d.train_norm);

    auto run = [&](const std::string& name, std::shared_ptr<nn::Module> student, const Objective& obj,
                   data::DataLoader& loader, const CifarData& data, bool uses_teacher) {
      RunOptions o{.name = name, .epochs = a.epochs, .lr = a.lr, .restart_epochs = true};
      if (uses_teacher) {
        o.teacher = teacher_view.get();
        o.cache = a.augment ? nullptr : &cache;
      }
      names.push_back(name);
      return train_run(*student, obj, loader, data, o, rows);
    };

    {  // The RGB student on labels: what the modality costs a student of this size.
      auto loader = make_loader(d, a.batch, a.seed, a.augment);
      manual_seed(a.seed);
      table.push_back({"student", "rgb", "ce", "yes",
                       run("rgb_labels", std::make_shared<nn::StudentNet>(3), cross_entropy_objective(), *loader, d,
                           false)});
    }
    std::vector<data::Modality> mods;
    for (data::Modality m : {data::Modality::Gray, data::Modality::Edge, data::Modality::GrayEdge})
      if (a.modality == "all" || a.modality == data::modality_name(m)) mods.push_back(m);
    for (data::Modality m : mods) {
      const std::string mn = data::modality_name(m);
      const std::int64_t cm = data::modality_channels(m);
      auto [mean, sd] = data::modality_mean_std(d.train_raw, m);
      std::printf("\n==== modality %s (%lld channel%s; train-split mean", mn.c_str(), static_cast<long long>(cm),
                  cm > 1 ? "s" : "");
      for (std::size_t c = 0; c < mean.size(); ++c) std::printf(" %.4f std %.4f", mean[c], sd[c]);
      std::printf(")\n");
      data::PairedModality pair{m, d.mean, d.std, mean, sd};
      CifarData paired = d;
      paired.train_norm = Tensor();  // the loader pairs each batch of train_raw
      paired.test_images = pair(test_raw, default_generator());
      data::LoaderOptions lo{.batch_size = a.batch, .shuffle = true, .seed = a.seed};
      lo.transform = a.augment ? data::compose({data::RandomCrop{32, 4}, data::RandomHFlip{}, pair})
                               : data::compose({pair});
      data::DataLoader loader(std::make_shared<data::TensorDataset>(d.train_raw, d.train_labels), lo);
      auto student = [&] {
        manual_seed(a.seed);  // the same initial weights in the three runs
        return std::make_shared<nn::ChannelSlice>(std::make_shared<nn::StudentNet>(cm), 3, cm);
      };
      Objective ce = cross_entropy_objective();
      Objective kd_only;
      kd_only.terms.push_back(kd::crossmodal_kd_term(a.T, 1.0));
      Objective both = cross_entropy_objective();
      both.terms[0].weight = 0.5;
      both.terms.push_back(kd::crossmodal_kd_term(a.T, 0.5));
      char kd_text[64], both_text[64];
      std::snprintf(kd_text, sizeof kd_text, "kd T=%g", a.T);
      std::snprintf(both_text, sizeof both_text, "0.5 ce + 0.5 kd T=%g", a.T);
      table.push_back({"student", mn, "ce", "yes", run(mn + "_labels", student(), ce, loader, paired, false)});
      table.push_back({"student", mn, kd_text, "no", run(mn + "_teacher_only", student(), kd_only, loader, paired, true)});
      table.push_back({"student", mn, both_text, "yes", run(mn + "_labels_teacher", student(), both, loader, paired, true)});
    }

    Table t{"cross-modal distillation: teacher on RGB, students on a modality of the same image (" +
                std::to_string(a.epochs) + " student epochs, teacher " + std::to_string(a.teacher_epochs) + ")",
            {"model", "input", "loss", "labels in loss", "params", "last acc", "best acc", "train time"}, {}};
    for (const Row& r : table)
      t.add({r.run, r.input, r.loss, r.labels, std::to_string(r.r.params), fmt(r.r.last, 2), fmt(r.r.best, 2),
             clock_str(r.r.seconds)});
    std::printf("\n");
    t.print();
    const std::string csv = a.out + "/crossmodal.csv";
    t.write_csv(csv);
    if (!a.csv.empty()) t.write_csv(a.csv);
    write_epoch_csv(a.out + "/metrics.csv", rows);
    std::printf("table: %s\nper-epoch metrics: %s/metrics.csv\n", csv.c_str(), a.out.c_str());
    plot_bars(csv, a.out + "/crossmodal.png", "cross-modal distillation (test accuracy)", "accuracy (%)", {6, 7});
    plot_epochs(a.out + "/metrics.csv", a.out, names, "crossmodal_");
    std::printf("wall time: %s\n",
                clock_str(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()).c_str());
    return plot_failures() > 0 ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nkd_crossmodal: %s\n", e.what());
    return 1;
  }
}
