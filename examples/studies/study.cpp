// The studies' shared state: lazily loaded data, the teacher store (memory, then safetensors
// files in OUT keyed by their settings, then training) and the run memo. See study.h.
#include "studies/study.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "nn/serialization.h"
#include "retort.h"
#include "tensor/atomic_file.h"

namespace retort::examples::studies {

std::vector<int> scale_epochs(const std::vector<int>& nominal, int flag) {
  std::vector<int> out;
  for (int v : nominal) {
    int e = flag >= 10 ? v : std::max(1, static_cast<int>(std::lround(v * flag / 10.0)));
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  return out;
}

RunResult Trained::result(int epochs) const {
  RunResult r{"", net ? net->num_parameters() : 0};
  for (int e = 0; e < epochs; ++e) {
    r.last = accs[e];
    r.best = std::max(r.best, accs[e]);
    r.seconds += seconds[e];
  }
  r.images_per_second = r.seconds > 0 ? static_cast<double>(images) * epochs / r.seconds : 0;
  return r;
}

Context::Context(Args args) : args_(std::move(args)) {
  set_num_threads(args_.threads);
  std::filesystem::create_directories(args_.out);
}

std::string Context::holdout_tag(const std::vector<std::int64_t>& holdout) const {
  std::string s;
  for (auto c : holdout) s += (s.empty() ? "_hold" : "-") + std::to_string(c);
  return s;
}

const CifarData& Context::data(const std::vector<std::int64_t>& holdout) {
  std::string tag = holdout_tag(holdout);
  if (!data_.count(tag)) {
    if (!data_.count("")) data_[""] = load_data({args_.data, args_.train_limit, args_.test_limit, parse_device(args_.device)});
    if (!tag.empty()) data_[tag] = select_classes(data_[""], holdout, /*keep=*/false);
  }
  return data_.at(tag);
}

data::DataLoader& Context::loader(bool augment, const std::vector<std::int64_t>& holdout) {
  std::string tag = holdout_tag(holdout) + (augment ? "_aug" : "");
  if (!loaders_.count(tag)) loaders_[tag] = make_loader(data(holdout), args_.batch, args_.seed, augment);
  return *loaders_.at(tag);
}

std::vector<TeacherEntry*> Context::teachers(const std::vector<int>& epochs, const std::vector<std::int64_t>& holdout) {
  const CifarData& d = data(holdout);
  auto key = [&](int e) {
    return "e" + std::to_string(e) + "_n" + std::to_string(d.train_labels.numel()) + "_s" +
           std::to_string(args_.seed) + holdout_tag(holdout);
  };
  auto file = [&](int e) { return args_.out + "/teacher_" + key(e) + ".safetensors"; };
  int missing = 0;
  for (int e : epochs) {
    if (teachers_.count(key(e))) continue;
    if (std::filesystem::exists(file(e))) {
      nn::Metadata meta;
      nn::TensorMap state = nn::load_safetensors(file(e), &meta);
      if (meta["key"] == key(e) && meta["data"] == args_.data) {
        auto t = std::make_shared<nn::TeacherNet>();
        t->load_state_dict(state);
        double acc = evaluate(*t, d.test_images, d.test_labels);
        std::printf("teacher (%d epochs) loaded from %s: test_acc %.2f%%\n", e, file(e).c_str(), acc);
        teachers_[key(e)] = {t, acc, {}};
        continue;
      }
    }
    missing = std::max(missing, e);
  }
  if (missing > 0) {
    // The snapshot nets are built before seeding: building one mid-training would draw its
    // initial weights from the global generator and change the dropout masks that follow.
    std::map<int, std::shared_ptr<nn::TeacherNet>> copies;
    for (int e : epochs)
      if (!teachers_.count(key(e))) copies[e] = std::make_shared<nn::TeacherNet>();
    manual_seed(args_.seed);
    auto t = std::make_shared<nn::TeacherNet>();
    std::vector<EpochRow> rows;
    auto snapshot = [&](int e, double acc) {
      if (!copies.count(e)) return;
      nn::save_safetensors(*t, file(e), {{"key", key(e)}, {"data", args_.data}});
      nn::TensorMap state;
      for (const auto& [k, v] : t->state_dict()) state[k] = v.clone();
      copies[e]->load_state_dict(state);
      teachers_[key(e)] = {copies[e], acc, {}};
      std::printf("teacher (%d epochs) saved: %s\n", e, file(e).c_str());
    };
    train_run(*t, cross_entropy_objective(), loader(false, holdout), d,
              {.name = "teacher" + holdout_tag(holdout), .epochs = missing, .lr = args_.lr, .restart_epochs = true,
               .on_epoch = snapshot, .checkpoint = &args_.checkpoint},
              rows);
    rows_.insert(rows_.end(), rows.begin(), rows.end());
  }
  std::vector<TeacherEntry*> out;
  for (int e : epochs) {
    TeacherEntry& t = teachers_.at(key(e));
    t.net->eval();
    t.net->requires_grad_(false);
    out.push_back(&t);
  }
  return out;
}

TeacherEntry& Context::teacher(int epochs, const std::vector<std::int64_t>& holdout) {
  return *teachers({epochs}, holdout)[0];
}

const TeacherCache& Context::teacher_cache(TeacherEntry& t, const std::vector<std::int64_t>& holdout) {
  if (!t.cache.logits.defined()) t.cache = cache_teacher(*t.net, data(holdout).train_norm);
  return t.cache;
}

const Trained& Context::run(const RunSpec& s) {
  auto it = runs_.find(s.key);
  if (it != runs_.end() && static_cast<int>(it->second.accs.size()) >= s.epochs) return it->second;
  manual_seed(args_.seed);
  Trained t;
  t.net = s.make_student ? s.make_student() : std::make_shared<nn::StudentNet>();
  Objective obj = s.objective ? s.objective() : cross_entropy_objective();
  std::vector<EpochRow> rows;
  data::DataLoader& l = loader(s.augment, s.holdout);
  train_run(*t.net, obj, l, data(s.holdout),
            {.name = s.name, .epochs = s.epochs, .lr = args_.lr, .teacher = s.teacher, .cache = s.cache,
             .restart_epochs = true, .checkpoint = &args_.checkpoint},
            rows);
  for (const auto& r : rows) {
    t.accs.push_back(r.test_acc);
    t.seconds.push_back(r.seconds);
  }
  t.images = l.dataset().size();
  rows_.insert(rows_.end(), rows.begin(), rows.end());
  return runs_[s.key] = std::move(t);
}

RunSpec Context::baseline_spec(int epochs, bool augment) {
  return {.key = augment ? "ce_aug" : "ce", .name = augment ? "student_aug" : "student", .epochs = epochs,
          .augment = augment};
}

RunSpec Context::kd_spec(int epochs, double T, double kd_weight, double ce_weight, bool augment,
                         int teacher_epochs) {
  if (teacher_epochs <= 0) teacher_epochs = args_.teacher_epochs;
  TeacherEntry& t = teacher(teacher_epochs);
  char key[96];
  std::snprintf(key, sizeof key, "kd_T%g_kd%g_ce%g_t%d%s", T, kd_weight, ce_weight, teacher_epochs,
                augment ? "_aug" : "");
  RunSpec s{.key = key, .name = key, .epochs = epochs, .teacher = t.net.get(), .augment = augment};
  if (!augment) s.cache = &teacher_cache(t);
  s.objective = [=] {
    Objective o = cross_entropy_objective();
    o.terms[0].weight = ce_weight;
    o.terms.insert(o.terms.begin(), seed_kl_term(T, kd_weight));
    return o;
  };
  return s;
}

void Context::report(const std::string& study, const Table& table, const std::vector<int>& plot_columns,
                     const std::string& ylabel) {
  table.print();
  std::string csv = args_.out + "/" + study + ".csv";
  table.write_csv(csv);
  std::printf("table: %s\n", csv.c_str());
  if (!args_.csv.empty()) {
    std::string cells;
    for (const auto& r : table.rows)
      for (std::size_t c = 1; c < r.size(); ++c) cells += study + ',' + r[0] + ',' + table.header[c] + ',' + r[c] + '\n';
    append_file_atomically(args_.csv, cells, "kd_studies --csv", "study,row,column,value\n");
  }
  if (!plot_columns.empty()) plot_bars(csv, args_.out + "/" + study + ".png", table.title, ylabel, plot_columns);
}

void Context::write_epoch_rows() const { write_epoch_csv(args_.out + "/metrics.csv", rows_); }

}  // namespace retort::examples::studies
