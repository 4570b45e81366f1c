// kd_quantized: quantised StudentNets on CIFAR-10, trained quantisation-aware (QAT) with and
// without distillation from the float TeacherNet (Apprentice / QKD style), at several bit widths.
//
//   1. a TeacherNet is trained (or loaded from OUT, where it is saved for later invocations);
//   2. a float StudentNet is trained with cross-entropy for --float-epochs: every quantised run
//      starts from these weights (LSQ's and QKD's protocol: quantise a trained network);
//      it and every quantised run see the loader's batches from its first epoch on, so the
//      results do not depend on whether the teacher was trained or loaded;
//   3. for each bit width k in --bits, two copies of that student are converted with
//      nn::quantize_aware (k-bit weights and activations, first and last layer at 8 bits) and
//      trained --epochs more: "QAT" with cross-entropy alone, "QAT+KD" with the seed's objective
//      ce_weight·CE + kd_weight·T²·KL(teacher ‖ student at T), the teacher's logits cached.
//   4. each QAT+KD student is converted to an nn::Int8Model (integer convolution and matmul through
//      oneDNN's int8 primitives) and evaluated: its test accuracy next to the fake-quantised
//      model's, the share of test images on which both predict the same class, and inference
//      images/s of the float student, the fake-quantised model and the int8 model (batches of 128).
// Prints the table bits × {QAT, QAT+KD} (fake-quantised test accuracy) and the int8 deployment
// table, and writes OUT/quantized.csv, OUT/int8.csv, OUT/metrics.csv (per epoch), and with
// gnuplot OUT/quantized.png and the curves.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/kd_experiment.h"
#include "common/report.h"
#include "common/run_flags.h"
#include "nn/int8.h"
#include "nn/models.h"
#include "nn/quant.h"
#include "nn/serialization.h"
#include "retort.h"

using namespace retort;
using namespace retort::examples;

namespace {

struct Args {
  std::string data = "data-cache/cifar10", device = "cpu", out = "kd_quantized_out", csv;
  std::string quantizer = "lsq", teacher_ckpt;
  std::vector<int> bits{8, 4, 2};
  int epochs = 5, float_epochs = 5, teacher_epochs = 10, threads = 2;
  std::int64_t train_limit = -1, test_limit = -1, batch = 128;
  double lr = 1e-3, T = 2.0, kd_weight = 0.25, ce_weight = 0.75;
  std::uint64_t seed = 42;
  bool smoke = false;
};

[[noreturn]] void usage(const std::string& why) {
  usage_exit(
      "kd_quantized", why,
      "usage: kd_quantized [--data DIR] [--bits 8,4,2] [--quantizer lsq|minmax] [--epochs E]\n"
      "                    [--float-epochs E] [--teacher-epochs E] [--T T] [--kd-weight W] [--ce-weight W]\n"
      "                    [--lr LR] [--batch B] [--train-limit N] [--test-limit N] [--seed S]\n"
      "                    [--threads N] [--device cpu|cuda|cuda:N] [--out DIR] [--csv FILE]\n"
      "                    [--teacher-ckpt F] [--smoke]\n"
      "Defaults: --bits 8,4,2, --quantizer lsq (learned step sizes; minmax: moving-average observers),\n"
      "--epochs 5 (each quantised run), --float-epochs 5 (the float student they start from),\n"
      "--teacher-epochs 10, T 2, KD 0.25·T²·KL + 0.75·CE, Adam lr 1e-3, batch 128, --out kd_quantized_out.\n"
      "The first and last layer stay at 8 bits (as in LSQ); bits in [2, 8].\n"
      "--smoke: 256 train / 200 test images, 1 epoch per run (seconds; used by the tests).\n"
      "The teacher is saved in OUT and reused by later invocations with the same settings; with\n"
      "--teacher-ckpt F it is loaded from F when F exists, else trained and saved there (so runs with\n"
      "other seeds can share one teacher).\n");
}

std::vector<int> parse_bits(const Flags& f, const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int b = f.to_int("--bits", item, Flags::positive);
    f.check(b >= 2 && b <= 8, "--bits: " + item + " is not in [2, 8]");
    out.push_back(b);
  }
  f.check(!out.empty(), "--bits: empty list");
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  Flags f(usage);
  for (auto [flag, field] : {std::pair{"--data", &a.data}, {"--device", &a.device}, {"--out", &a.out},
                             {"--csv", &a.csv}, {"--quantizer", &a.quantizer}, {"--teacher-ckpt", &a.teacher_ckpt}})
    f.value(flag, *field);
  f.custom("--bits", [&](const std::string& v) { a.bits = parse_bits(f, v); });
  for (auto [flag, field] : {std::pair{"--epochs", &a.epochs}, {"--float-epochs", &a.float_epochs},
                             {"--teacher-epochs", &a.teacher_epochs}, {"--threads", &a.threads}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--train-limit", &a.train_limit}, {"--test-limit", &a.test_limit},
                             {"--batch", &a.batch}})
    f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--lr", &a.lr}, {"--T", &a.T}}) f.value(flag, *field, Flags::positive);
  for (auto [flag, field] : {std::pair{"--kd-weight", &a.kd_weight}, {"--ce-weight", &a.ce_weight}})
    f.value(flag, *field, Flags::non_negative);
  f.value("--seed", a.seed);
  f.set("--smoke", a.smoke);
  f.parse(argc, argv);
  if (a.smoke) {
    a.train_limit = a.train_limit > 0 ? a.train_limit : 256;
    a.test_limit = a.test_limit > 0 ? a.test_limit : 200;
    a.epochs = a.float_epochs = a.teacher_epochs = 1;
  }
  f.check(a.quantizer == "lsq" || a.quantizer == "minmax",
          "--quantizer: '" + a.quantizer + "' is not lsq or minmax");
  check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit, .device = a.device,
                      .out = a.out, .csv = a.csv.empty() ? a.out + "/metrics.csv" : a.csv, .batch_pairs = false});
  if (!std::filesystem::exists(a.teacher_ckpt)) f.output_file("--teacher-ckpt", a.teacher_ckpt);
  return a;
}

// Copies of a state dict's tensors (the float student's weights every quantised run starts from).
nn::TensorMap snapshot(const nn::Module& m) {
  nn::TensorMap s;
  for (const auto& [k, v] : m.state_dict()) s[k] = v.clone();
  return s;
}

// Class predictions [M] of fn on images [M, ...] in batches of kInferenceBatch, and the seconds
// the forwards took.
std::pair<std::vector<std::int64_t>, double> predict(const std::function<Tensor(const Tensor&)>& fn,
                                                     const Tensor& images) {
  NoGradGuard ng;
  std::vector<std::int64_t> out;
  double seconds = 0;
  for (std::int64_t s = 0; s < images.size(0); s += kInferenceBatch) {
    Tensor x = narrow(images, 0, s, std::min(kInferenceBatch, images.size(0) - s)).contiguous();
    auto t0 = std::chrono::steady_clock::now();
    Tensor logits = fn(x);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (auto p : argmax(logits, 1).to_vector<std::int64_t>()) out.push_back(p);
  }
  return {out, seconds};
}

double percent_equal(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  std::int64_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return 100.0 * static_cast<double>(same) / static_cast<double>(a.size());
}

int run(const Args& a) {
  set_num_threads(a.threads);
  std::filesystem::create_directories(a.out);
  CifarData d = load_data({a.data, a.train_limit, a.test_limit, parse_device(a.device)});
  auto loader = make_loader(d, a.batch, a.seed, /*augment=*/false);
  std::printf("CIFAR-10 from %s: %lld train / %lld test images; teacher %d epochs, float student %d, each "
              "quantised run %d more; %s quantisers, batch %lld, Adam lr %g, KD %g·T²·KL + %g·CE at T=%g, "
              "%d threads\n",
              a.data.c_str(), static_cast<long long>(d.train_labels.numel()),
              static_cast<long long>(d.test_labels.numel()), a.teacher_epochs, a.float_epochs, a.epochs,
              a.quantizer.c_str(), static_cast<long long>(a.batch), a.lr, a.kd_weight, a.ce_weight, a.T,
              a.threads);
  std::vector<EpochRow> rows;
  const Objective ce = cross_entropy_objective();
  Objective kd;
  kd.terms = {seed_kl_term(a.T, a.kd_weight), ce.terms[0]};
  kd.terms[1].weight = a.ce_weight;

  manual_seed(a.seed);
  auto teacher = std::make_shared<nn::TeacherNet>();
  std::string tpath = !a.teacher_ckpt.empty()
                          ? a.teacher_ckpt
                          : a.out + "/teacher_e" + std::to_string(a.teacher_epochs) + "_n" +
                                std::to_string(d.train_labels.numel()) + "_s" + std::to_string(a.seed) +
                                ".safetensors";
  RunResult teacher_result =
      std::filesystem::exists(tpath)
          ? load_and_evaluate(*teacher, "teacher", tpath, d)
          : train_run(*teacher, ce, *loader, d, {.name = "teacher", .epochs = a.teacher_epochs, .lr = a.lr}, rows);
  if (!std::filesystem::exists(tpath)) nn::save_safetensors(*teacher, tpath);
  teacher->eval();
  teacher->requires_grad_(false);
  TeacherCache cache = cache_teacher(*teacher, d.train_norm);

  manual_seed(a.seed);
  auto student = std::make_shared<nn::StudentNet>();
  RunResult float_result = train_run(*student, ce, *loader, d,
                                     {.name = "float", .epochs = a.float_epochs, .lr = a.lr, .restart_epochs = true}, rows);
  const nn::TensorMap float_weights = snapshot(*student);

  Table t{"quantised StudentNet, test accuracy % (fake-quantised; first/last layer 8-bit)",
          {"bits", "QAT", "QAT+KD", "KD gain", "QAT time s", "QAT+KD time s"}, {}};
  Table deploy{"int8 deployment of the QAT+KD students (test set; inference in batches of 128)",
               {"bits", "fake-quant acc", "int8 acc", "int8 - fake", "same prediction %", "float32 img/s",
                "fake-quant img/s", "int8 img/s"}, {}};
  const bool cpu = parse_device(a.device).is_cpu();
  const auto labels = d.test_labels.to_vector<std::int64_t>();
  double float_s = 0;
  if (cpu) {
    student->eval();
    float_s = predict([&](const Tensor& x) { return (*student)(x); }, d.test_images).second;
  }
  const double images = static_cast<double>(labels.size());
  std::vector<std::string> runs{"float"};
  for (int bits : a.bits) {
    RunResult r[2];
    for (int with_kd = 0; with_kd < 2; ++with_kd) {
      manual_seed(a.seed);
      auto q = std::make_shared<nn::StudentNet>();
      q->load_state_dict(float_weights);
      nn::quantize_aware(*q, {.bits = bits, .lsq = a.quantizer == "lsq"});
      std::string name = "w" + std::to_string(bits) + (with_kd ? "_qat_kd" : "_qat");
      runs.push_back(name);
      r[with_kd] = train_run(*q, with_kd ? kd : ce, *loader, d,
                             {.name = name, .epochs = a.epochs, .lr = a.lr, .teacher = teacher.get(),
                              .cache = &cache, .restart_epochs = true},
                             rows);
      if (!with_kd || !cpu) continue;
      q->eval();
      auto [fake_pred, fake_s] = predict([&](const Tensor& x) { return (*q)(x); }, d.test_images);
      nn::Int8Model int8 = nn::Int8Model::from_sequentials(*q->features, *q->classifier);
      auto [int8_pred, int8_s] = predict([&](const Tensor& x) { return int8.forward(x); }, d.test_images);
      double fake_acc = percent_equal(fake_pred, labels), int8_acc = percent_equal(int8_pred, labels);
      deploy.add({std::to_string(bits), fmt(fake_acc, 2), fmt(int8_acc, 2), fmt(int8_acc - fake_acc, 2),
                  fmt(percent_equal(int8_pred, fake_pred), 2), fmt(images / float_s, 0), fmt(images / fake_s, 0),
                  fmt(images / int8_s, 0)});
    }
    t.add({std::to_string(bits), fmt(r[0].last, 2), fmt(r[1].last, 2), fmt(r[1].last - r[0].last, 2),
           fmt(r[0].seconds, 1), fmt(r[1].seconds, 1)});
  }
  std::printf("\nteacher %.2f%%, float student %.2f%% (%d epochs); quantised runs start from it\n",
              teacher_result.last, float_result.last, a.float_epochs);
  t.print();
  std::string table_csv = a.out + "/quantized.csv";
  t.write_csv(table_csv);
  if (cpu) {
    std::printf("\n");
    deploy.print();
    deploy.write_csv(a.out + "/int8.csv");
    std::printf("int8 table: %s/int8.csv\n", a.out.c_str());
  } else {
    std::printf("int8 deployment skipped: the int8 kernels run on the CPU only\n");
  }
  std::string csv = a.csv.empty() ? a.out + "/metrics.csv" : a.csv;
  write_epoch_csv(csv, rows);
  std::printf("table: %s\nper-epoch metrics: %s\n", table_csv.c_str(), csv.c_str());
  plot_bars(table_csv, a.out + "/quantized.png", "quantised StudentNet on CIFAR-10", "test accuracy %", {2, 3});
  plot_epochs(csv, a.out, runs);
  return plot_failures() > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kd_quantized: %s\n", e.what());
    return 1;
  }
}
