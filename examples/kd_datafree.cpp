// kd_datafree: distils a CIFAR-10 student from a BatchNorm teacher without a single training
// image — DeepInversion (--method inversion) or DAFL (--method dafl) — and compares it with a
// randomly initialised student and the data-driven KD student:
//   kd_datafree --method inversion --teacher-ckpt T.safetensors
//   kd_datafree --method dafl --teacher-ckpt T.safetensors --baseline none   (training files never read)
// Phases: (1) the teacher: loaded from --teacher-ckpt, or trained on the training split (and saved);
// (2) the data-free phase: only the test split is read (evaluation), and TrainSplit refuses to open
// the training split while it runs — with a saved teacher and --baseline none the training files
// need not exist at all (the smoke test runs it on a folder holding test_batch.bin alone);
// (3) --baseline kd: the data-driven KD student on the training split (teacher logits cached).
#include <cstdio>
#include <filesystem>
#include <optional>

#include "common/distributed.h"
#include "common/progress.h"
#include "common/report.h"
#include "data/cifar10.h"
#include "data/transforms.h"
#include "datafree/args.h"
#include "nn/serialization.h"
#include "retort.h"
#include "zoo/args.h"

using namespace retort;
using namespace retort::examples;
using namespace retort::examples::datafree;

namespace {

// The only door to the training split: load() counts the loads and throws while closed.
class TrainSplit {
 public:
  explicit TrainSplit(const Args& a) : a_(a) {}
  const CifarData& load() {
    RETORT_CHECK(open_, "kd_datafree: the data-free phase tried to open the training split");
    if (!data_) {
      ++loads_;
      data_ = load_data({a_.data, a_.train_limit, a_.test_limit, parse_device(a_.device), "cifar10"});
    }
    return *data_;
  }
  void close() { open_ = false; }
  void reopen() { open_ = true; }
  int loads() const { return loads_; }

 private:
  const Args& a_;
  std::optional<CifarData> data_;
  bool open_ = true;
  int loads_ = 0;
};

// The test split alone, normalised as load_data normalises CIFAR-10 (train fields empty).
CifarData load_test_split(const Args& a) {
  data::Cifar10 test = data::load_cifar10(data::Split::Test, a.data, a.test_limit);
  CifarData d;
  d.mean = data::kImageNetMean;
  d.std = data::kImageNetStd;
  d.test_images = data::normalize(test.images, d.mean, d.std);
  d.test_labels = test.labels;
  d.device = parse_device(a.device);
  return d;
}

std::shared_ptr<nn::Module> new_student(const Args& a) {
  manual_seed(a.o.seed);  // every student starts from the same weights
  return zoo::make_net(a.student, a.o.classes);
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  try {
    return run_program([&]() -> int {
      set_num_threads(a.threads);
      std::filesystem::create_directories(a.out);
      TrainSplit train(a);
      const CifarData test = load_test_split(a);
      std::printf("kd_datafree: %s <- %s on CIFAR-10 (%s), method %s, %lld test images, seed %llu, %d threads%s\n",
                  a.student.c_str(), a.teacher.c_str(), a.data.c_str(), a.method.c_str(),
                  static_cast<long long>(test.test_labels.numel()), static_cast<unsigned long long>(a.o.seed),
                  a.threads, a.smoke ? " (smoke schedule)" : "");
      std::vector<EpochRow> rows;
      Table table{"kd_datafree: " + a.student + " from " + a.teacher + " (CIFAR-10 test accuracy %)",
                  {"run", "training data", "last acc", "best acc", "train time", "img/s"}, {}};

      // (1) The teacher.
      manual_seed(a.o.seed);
      auto teacher = nn::create_model(a.teacher, a.o.classes);
      const bool have_ckpt = !a.teacher_ckpt.empty() && std::filesystem::exists(a.teacher_ckpt);
      RunResult tr;
      if (have_ckpt) {
        tr = load_and_evaluate(*teacher, "teacher", a.teacher_ckpt, test);
      } else {
        const CifarData& d = train.load();
        auto loader = make_loader(d, 128, a.o.seed, false);
        tr = train_run(*teacher, cross_entropy_objective(), *loader, d,
                       {.name = "teacher", .epochs = a.teacher_epochs, .lr = 1e-3}, rows);
        if (!a.teacher_ckpt.empty()) nn::save_safetensors(*teacher, a.teacher_ckpt);
      }
      teacher->eval();
      teacher->requires_grad_(false);
      table.add({"teacher " + a.teacher, have_ckpt ? "(loaded)" : std::to_string(train.load().train_labels.numel()) + " train images",
                 fmt(tr.last, 2), fmt(tr.best, 2), have_ckpt ? "-" : clock_str(tr.seconds),
                 have_ckpt ? "-" : fmt(tr.images_per_second, 0)});

      // (2) The data-free phase: the training split is closed.
      train.close();
      const int loads_before = train.loads();
      Options o = a.o;
      o.feature_tap = teacher->embedding_tap();
      {
        auto s = new_student(a);
        const double acc = evaluate(*s, test.test_images, test.test_labels);
        std::printf("random-init %s: test_acc %.2f%%\n", a.student.c_str(), acc);
        table.add({"student random init", "none", fmt(acc, 2), fmt(acc, 2), "-", "-"});
      }
      std::vector<std::string> names;
      if (a.runs("inversion")) {
        Pool pool = synthesize_pool(*teacher, o);
        std::printf("inversion: %lld images synthesised in %s\n", static_cast<long long>(pool.images.size(0)),
                    clock_str(pool.seconds).c_str());
        write_class_grid(a.out + "/images_inversion.png", pool, test.mean, test.std, o.classes);
        auto s = new_student(a);
        RunResult r = train_on_pool(*s, *teacher, pool, test, o, "inversion", rows);
        table.add({"student inversion", std::to_string(pool.images.size(0)) + " synthesised (" +
                   clock_str(pool.seconds) + ")", fmt(r.last, 2), fmt(r.best, 2),
                   clock_str(r.seconds + pool.seconds), fmt(r.images_per_second, 0)});
        names.push_back("inversion");
      }
      if (a.runs("dafl")) {
        auto s = new_student(a);
        Pool samples;
        RunResult r = train_dafl(*s, *teacher, test, o, "dafl", rows, &samples);
        write_class_grid(a.out + "/images_dafl.png", samples, test.mean, test.std, o.classes);
        table.add({"student dafl", std::to_string(static_cast<long long>(o.dafl_iters) * o.batch) + " generated",
                   fmt(r.last, 2), fmt(r.best, 2), clock_str(r.seconds), fmt(r.images_per_second, 0)});
        names.push_back("dafl");
      }
      RETORT_CHECK(train.loads() == loads_before, "kd_datafree: the training split was loaded in the data-free phase");
      std::printf("data-free phase done: the training split was not opened (loaded %d time(s) before it, 0 during)\n",
                  loads_before);
      train.reopen();

      // (3) The data-driven KD student.
      if (a.baseline == "kd") {
        const CifarData& d = train.load();
        auto loader = make_loader(d, o.batch, o.seed, false);
        Objective obj = cross_entropy_objective();
        obj.terms[0].weight = 0.1;
        obj.terms.push_back(seed_kl_term(o.T, 0.9));
        Progress timer("teacher cache", 1, d.train_labels.numel());
        const TeacherCache cache = cache_teacher(*teacher, d.train_norm);  // exact: no augmentation
        std::printf("teacher logits cached for the data-driven KD student (%s)\n", clock_str(timer.seconds()).c_str());
        auto s = new_student(a);
        RunResult r = train_run(*s, obj, *loader, d,
                                {.name = "data-kd", .epochs = a.baseline_epochs, .lr = o.lr, .teacher = teacher.get(),
                                 .cache = &cache, .restart_epochs = true}, rows);
        table.add({"student data-driven KD", std::to_string(d.train_labels.numel()) + " train images",
                   fmt(r.last, 2), fmt(r.best, 2), clock_str(r.seconds), fmt(r.images_per_second, 0)});
        names.push_back("data-kd");
      }
      table.print();
      std::string csv = a.csv.empty() ? a.out + "/datafree.csv" : a.csv;
      table.write_csv(csv);
      write_epoch_csv(a.out + "/metrics.csv", rows);
      std::printf("results: %s, per-epoch metrics: %s/metrics.csv, images: %s/images_<method>.png\n", csv.c_str(),
                  a.out.c_str(), a.out.c_str());
      plot_bars(csv, a.out + "/datafree_accuracy.png", "kd_datafree: test accuracy", "test accuracy (%)", {3, 4});
      plot_epochs(a.out + "/metrics.csv", a.out, names, "datafree_");
      return plot_failures() > 0 ? 1 : 0;
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nkd_datafree: %s\n", e.what());
    return 1;
  }
}
