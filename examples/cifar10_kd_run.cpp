// The experiment itself. Data are normalised once up front when there is no augmentation (the
// common case, and what makes the teacher-logit cache exact); with --augment the loader crops,
// flips and normalises each batch on its worker thread.
#include "cifar10_kd_run.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/progress.h"
#include "data/cifar10.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "nn/functional.h"
#include "nn/models.h"
#include "nn/serialization.h"
#include "optim/adam.h"
#include "retort.h"

namespace retort::examples {

namespace {

struct EpochRow {
  std::string run;
  int epoch;
  double loss, train_acc, test_acc, seconds, images_per_second;
};

struct RunResult {
  std::string name;
  std::int64_t params = 0;
  double last = 0, best = 0, seconds = 0, images_per_second = 0;
};

double evaluate(nn::Module& net, const data::Cifar10& test) {
  NoGradGuard ng;
  net.eval();
  std::int64_t correct = 0, n = test.labels.numel();
  for (std::int64_t s = 0; s < n; s += 500) {
    std::int64_t len = std::min<std::int64_t>(500, n - s);
    Tensor pred = argmax(net(narrow(test.images, 0, s, len)), 1);
    correct += sum(eq(pred, narrow(test.labels, 0, s, len))).item<std::int64_t>();
  }
  net.train();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

// The teacher's logits for every training image, in dataset order (eval mode, no_grad).
Tensor teacher_logits(nn::Module& teacher, const Tensor& images) {
  NoGradGuard ng;
  std::vector<Tensor> parts;
  for (std::int64_t s = 0; s < images.size(0); s += 500)
    parts.push_back(teacher(narrow(images, 0, s, std::min<std::int64_t>(500, images.size(0) - s))));
  return cat(parts, 0);
}

// Trains `net` for `epochs`; `teacher` (may be null) makes it the KD student.
RunResult train(const std::string& name, nn::Module& net, int epochs, data::DataLoader& loader,
                const data::Cifar10& test, const KdArgs& a, nn::Module* teacher, const Tensor& cached,
                std::vector<EpochRow>& rows) {
  RunResult r{name, net.num_parameters()};
  optim::Adam opt(net.parameters(), {.lr = a.lr});
  net.train();
  const std::int64_t n = loader.dataset().size();
  const std::int64_t batches = (n + a.batch - 1) / a.batch;
  double total_images = 0;
  for (int e = 1; e <= epochs; ++e) {
    Progress bar(name + " epoch " + std::to_string(e) + "/" + std::to_string(epochs), batches, n);
    for (const data::Batch& b : loader) {
      opt.zero_grad();
      Tensor out = net(b.inputs);
      Tensor loss = F::cross_entropy(out, b.targets);
      if (teacher) {
        Tensor tl;
        if (cached.defined()) {
          tl = index_select(cached, 0, b.indices);
        } else {
          NoGradGuard ng;
          tl = (*teacher)(b.inputs);
        }
        Tensor p = softmax(tl / a.T, -1);
        Tensor kl = sum(p * (log(p) - log_softmax(out / a.T, -1))) / static_cast<double>(b.size()) * (a.T * a.T);
        loss = a.kd_weight * kl + a.ce_weight * loss;
      }
      loss.backward();
      opt.step();
      bar.update(b.size(), loss.item<double>(), sum(eq(argmax(out, 1), b.targets)).item<std::int64_t>());
    }
    double secs = bar.seconds();
    double ips = static_cast<double>(n) / secs;
    double acc = evaluate(net, test);
    r.last = acc;
    r.best = std::max(r.best, acc);
    r.seconds += secs;
    total_images += static_cast<double>(n);
    rows.push_back({name, e, bar.mean_loss(), bar.accuracy(), acc, secs, ips});
    std::printf("\r%s epoch %d/%d loss %.4f train_acc %.1f%% test_acc %.2f%% (%s, %.0f img/s)          \n",
                name.c_str(), e, epochs, bar.mean_loss(), bar.accuracy(), acc, clock_str(secs).c_str(), ips);
  }
  r.images_per_second = r.seconds > 0 ? total_images / r.seconds : 0;
  return r;
}

void write_csv(const std::string& path, const std::vector<EpochRow>& rows) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << "run,epoch,train_loss,train_acc,test_acc,seconds,images_per_second\n";
    for (const auto& r : rows)
      f << r.run << ',' << r.epoch << ',' << r.loss << ',' << r.train_acc << ',' << r.test_acc << ','
        << r.seconds << ',' << r.images_per_second << '\n';
    if (!f) fail("cifar10_kd: cannot write ", tmp);
  }
  std::filesystem::rename(tmp, path);
}

// Loss and accuracy curves of the three runs, when gnuplot is installed.
void plot(const std::string& csv, const std::string& out_dir) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::printf("(gnuplot not installed: no plots; apt-get install gnuplot-nox)\n");
    return;
  }
  std::string gp = out_dir + "/plots.gp";
  std::ofstream f(gp);
  f << "set datafile separator ','\nset terminal pngcairo size 900,500\nset key autotitle columnhead\n"
    << "set xlabel 'epoch'\n";
  const char* runs[] = {"teacher", "student", "kd_student"};
  for (auto [col, name] : {std::pair{3, "loss"}, std::pair{5, "test_accuracy"}}) {
    f << "set output '" << out_dir << "/" << name << ".png'\nset ylabel '" << name << "'\nplot ";
    for (int i = 0; i < 3; ++i)
      f << (i ? ", " : "") << "'< grep ^" << runs[i] << ", " << csv << "' using 2:" << col << " with linespoints title '"
        << runs[i] << "'";
    f << "\n";
  }
  f.close();
  if (std::system(("gnuplot " + gp).c_str()) == 0)
    std::printf("plots: %s/loss.png, %s/test_accuracy.png\n", out_dir.c_str(), out_dir.c_str());
}

}  // namespace

int run_cifar10_kd(const KdArgs& a) {
  set_num_threads(a.threads);
  std::filesystem::create_directories(a.out);
  data::Cifar10 train_raw = data::load_cifar10(data::Split::Train, a.data, a.train_limit);
  data::Cifar10 test = data::load_cifar10(data::Split::Test, a.data, a.test_limit);
  test.images = data::normalize(test.images, data::kImageNetMean, data::kImageNetStd);
  Tensor train_norm = data::normalize(train_raw.images, data::kImageNetMean, data::kImageNetStd);

  data::LoaderOptions lo{.batch_size = a.batch, .shuffle = true, .seed = a.seed};
  std::shared_ptr<data::Dataset> ds;
  if (a.augment) {
    ds = std::make_shared<data::TensorDataset>(train_raw.images, train_raw.labels);
    lo.transform = data::compose({data::RandomCrop{32, 4}, data::RandomHFlip{},
                                  data::Normalize{data::kImageNetMean, data::kImageNetStd}});
  } else {
    ds = std::make_shared<data::TensorDataset>(train_norm, train_raw.labels);
  }
  data::DataLoader loader(ds, lo);
  std::printf("CIFAR-10 from %s: %lld train / %lld test images; teacher %d epochs, students %d epochs, batch %lld, "
              "Adam lr %g, T=%g, KD %g·T²·KL + %g·CE, %d threads%s%s\n",
              a.data.c_str(), static_cast<long long>(ds->size()), static_cast<long long>(test.labels.numel()),
              a.teacher_epochs, a.student_epochs, static_cast<long long>(a.batch), a.lr, a.T, a.kd_weight,
              a.ce_weight, a.threads, a.augment ? ", augmentation" : "",
              a.cache_teacher_logits ? ", cached teacher logits" : "");

  std::vector<EpochRow> rows;
  std::vector<RunResult> results;
  manual_seed(a.seed);
  auto teacher = std::make_shared<nn::TeacherNet>();
  if (!a.load_teacher.empty()) {
    nn::load_safetensors(*teacher, a.load_teacher);
    RunResult r{"teacher", teacher->num_parameters()};
    r.last = r.best = evaluate(*teacher, test);
    std::printf("teacher loaded from %s: test_acc %.2f%%\n", a.load_teacher.c_str(), r.last);
    results.push_back(r);
  } else {
    results.push_back(train("teacher", *teacher, a.teacher_epochs, loader, test, a, nullptr, Tensor(), rows));
  }
  if (!a.save_teacher.empty()) nn::save_safetensors(*teacher, a.save_teacher);
  teacher->eval();
  teacher->requires_grad_(false);
  Tensor cached = a.cache_teacher_logits ? teacher_logits(*teacher, train_norm) : Tensor();

  manual_seed(a.seed);
  auto student = std::make_shared<nn::StudentNet>();
  results.push_back(train("student", *student, a.student_epochs, loader, test, a, nullptr, Tensor(), rows));
  manual_seed(a.seed);
  auto kd_student = std::make_shared<nn::StudentNet>();
  results.push_back(train("kd_student", *kd_student, a.student_epochs, loader, test, a, teacher.get(), cached, rows));

  std::printf("\n%-11s %10s %10s %10s %10s %10s\n", "model", "params", "last acc", "best acc", "train time",
              "img/s");
  for (const auto& r : results)
    std::printf("%-11s %10lld %9.2f%% %9.2f%% %10s %10.0f\n", r.name.c_str(), static_cast<long long>(r.params),
                r.last, r.best, clock_str(r.seconds).c_str(), r.images_per_second);
  std::string csv = a.csv.empty() ? a.out + "/metrics.csv" : a.csv;
  write_csv(csv, rows);
  std::printf("per-epoch metrics: %s\n", csv.c_str());
  plot(csv, a.out);
  return 0;
}

}  // namespace retort::examples
