// The experiment itself, on the shared harness (common/kd_experiment.h): one loader serves the
// three runs in turn (its epochs continue from run to run, as they always have here), the KD
// student's teacher logits come from a cache when --cache-teacher-logits is given (exact only
// without --augment) and from a teacher forward per batch otherwise.
#include "cifar10_kd_run.h"

#include <cstdio>
#include <filesystem>
#include <vector>

#include "common/distributed.h"
#include "common/kd_experiment.h"
#include "common/report.h"
#include "nn/models.h"
#include "nn/serialization.h"
#include "retort.h"

namespace retort::examples {

int run_cifar10_kd(const KdArgs& a) {
  set_num_threads(a.threads);
  std::filesystem::create_directories(a.out);
  prepare_checkpoint_dir(a.checkpoint);
  const CheckpointOptions* ck = &a.checkpoint;
  CifarData d = load_data({a.data, a.train_limit, a.test_limit, parse_device(a.device)});
  std::unique_ptr<data::DataLoader> loader = make_loader(d, a.batch, a.seed, a.augment);
  std::printf("CIFAR-10 from %s: %lld train / %lld test images; teacher %d epochs, students %d epochs, batch %lld, "
              "Adam lr %g, T=%g, KD %g·T²·KL + %g·CE, %d threads%s%s%s\n",
              a.data.c_str(), static_cast<long long>(loader->dataset().size()),
              static_cast<long long>(d.test_labels.numel()), a.teacher_epochs, a.student_epochs,
              static_cast<long long>(a.batch), a.lr, a.T, a.kd_weight, a.ce_weight, a.threads,
              a.augment ? ", augmentation" : "", a.cache_teacher_logits ? ", cached teacher logits" : "",
              dist_info().on ? (", " + std::to_string(dist_info().size) + " ranks × batch " +
                                std::to_string(global_batch(a.batch) / dist_info().size) + " (global " +
                                std::to_string(global_batch(a.batch)) + ")").c_str() : "");

  std::vector<EpochRow> rows;
  std::vector<RunResult> results;
  const Objective ce = cross_entropy_objective();
  manual_seed(a.seed);
  auto teacher = std::make_shared<nn::TeacherNet>();
  if (!a.load_teacher.empty())
    results.push_back(load_and_evaluate(*teacher, "teacher", a.load_teacher, d));
  else
    results.push_back(train_run(*teacher, ce, *loader, d, {.name = "teacher", .epochs = a.teacher_epochs, .lr = a.lr, .checkpoint = ck},
                                rows));
  if (!a.save_teacher.empty() && dist_info().main()) nn::save_safetensors(*teacher, a.save_teacher);
  teacher->eval();
  teacher->requires_grad_(false);
  TeacherCache cache;
  if (a.cache_teacher_logits) cache = cache_teacher(*teacher, d.train_norm);

  manual_seed(a.seed);
  auto student = std::make_shared<nn::StudentNet>();
  results.push_back(
      train_run(*student, ce, *loader, d, {.name = "student", .epochs = a.student_epochs, .lr = a.lr, .checkpoint = ck}, rows));
  manual_seed(a.seed);
  auto kd_student = std::make_shared<nn::StudentNet>();
  Objective kd;
  kd.terms = {seed_kl_term(a.T, a.kd_weight), ce.terms[0]};
  kd.terms[1].weight = a.ce_weight;
  results.push_back(train_run(*kd_student, kd, *loader, d,
                              {.name = "kd_student", .epochs = a.student_epochs, .lr = a.lr, .teacher = teacher.get(),
                               .cache = a.cache_teacher_logits ? &cache : nullptr, .checkpoint = ck},
                              rows));

  print_run_table(results);
  if (!dist_info().main()) return 0;  // rank 0 writes the outputs
  std::string csv = a.csv.empty() ? a.out + "/metrics.csv" : a.csv;
  write_epoch_csv(csv, rows);
  std::printf("per-epoch metrics: %s\n", csv.c_str());
  plot_epochs(csv, a.out, {"teacher", "student", "kd_student"});
  return plot_failures() > 0 ? 1 : 0;
}

}  // namespace retort::examples
