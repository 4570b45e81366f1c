// kd_assistant's shared state: the size ladder, lazily loaded data, the teacher store (memory,
// then safetensors files in OUT keyed by their settings, then training) and the chain memo. See
// study.h.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "assistant/study.h"
#include "common/progress.h"
#include "nn/serialization.h"
#include "optim/adam.h"
#include "retort.h"
#include "tensor/atomic_file.h"

namespace retort::examples::assistant {

const std::vector<Net>& ladder() {
  static const std::vector<Net> nets = [] {
    std::vector<Net> n{
        {"student", nn::ConvNetSpec::student_net()},
        {"ta-small", {{{1, 32, 3}, {1, 32, 3}}, 256}},
        {"ta-medium", {{{1, 64, 3}, {2, 32, 3, {64, 32}}}, 384}},
        {"teacher", nn::ConvNetSpec::teacher_net()},
        {"teacher-xl", {{{2, 80, 3, {128, 80}}, {2, 64, 3, {80, 64}}}, 512}},
    };
    for (auto& e : n) {
      e.params = e.spec.parameter_count(3, 10);
      e.macs = e.spec.macs(3, 10);
    }
    return n;
  }();
  return nets;
}

const Net& net(const std::string& name) {
  std::string known;
  for (const auto& n : ladder()) {
    if (n.name == name) return n;
    known += (known.empty() ? "" : ", ") + n.name;
  }
  fail("kd_assistant: no net '", name, "' (known: ", known, ")");
}

double ChainRun::seconds() const {
  double s = 0;
  for (const auto& r : stages) s += r.seconds;
  return s;
}

std::int64_t ChainRun::steps() const {
  std::int64_t s = 0;
  for (const auto& r : stages) s += r.steps;
  return s;
}

Context::Context(Args args) : args_(std::move(args)) {
  set_num_threads(args_.threads);
  std::filesystem::create_directories(args_.out);
}

const CifarData& Context::data() {
  if (!data_) {
    data_ = std::make_unique<CifarData>(
        load_data({args_.data, args_.train_limit, args_.test_limit, parse_device(args_.device)}));
    loader_ = make_loader(*data_, args_.batch, args_.seed, /*augment=*/false);
    teacher_loader_ = make_loader(*data_, args_.batch, args_.seed_of_teachers(), /*augment=*/false);
  }
  return *data_;
}

std::shared_ptr<nn::Module> Context::make(const std::string& name, std::uint64_t seed) {
  manual_seed(seed);
  auto m = std::make_shared<nn::ConvNet>(net(name).spec);
  m->to(data().device);
  return m;
}

std::string Context::key(const std::string& name) const {
  return name + "_e" + std::to_string(args_.teacher_epochs) + "_n" + std::to_string(data_->train_labels.numel()) +
         "_s" + std::to_string(args_.seed_of_teachers());
}

TeacherEntry& Context::teacher(const std::string& name) {
  auto it = teachers_.find(name);
  if (it != teachers_.end()) return it->second;
  const CifarData& d = data();
  const std::string file = args_.out + "/teacher_" + key(name) + ".safetensors";
  const nn::Metadata meta{{"key", key(name)},       {"spec", net(name).spec.describe()},
                          {"data", args_.data},     {"lr", short_double(args_.lr)},
                          {"batch", std::to_string(args_.batch)}};
  TeacherEntry t;
  t.net = make(name, args_.seed_of_teachers());
  nn::Metadata saved;
  if (std::filesystem::exists(file) && (nn::load_safetensors(file, &saved), saved == meta)) {
    nn::load_safetensors(*t.net, file);
    t.acc = evaluate(*t.net, d.test_images, d.test_labels);
    t.loaded = true;
    std::printf("%s loaded from %s: test_acc %.2f%%\n", name.c_str(), file.c_str(), t.acc);
  } else {
    std::vector<EpochRow> rows;
    RunResult r = train_run(*t.net, cross_entropy_objective(), *teacher_loader_, d,
                            {.name = name, .epochs = args_.teacher_epochs, .lr = args_.lr, .restart_epochs = true},
                            rows);
    rows_.insert(rows_.end(), rows.begin(), rows.end());
    t.acc = r.last;
    t.seconds = r.seconds;
    nn::save_safetensors(*t.net, file, meta);
    std::printf("%s saved: %s\n", name.c_str(), file.c_str());
  }
  t.net->eval();
  t.net->requires_grad_(false);
  return teachers_[name] = std::move(t);
}

const RunResult& Context::baseline(const std::string& name) {
  auto it = baselines_.find(name);
  if (it != baselines_.end()) return it->second;
  const CifarData& d = data();
  auto m = make(name, args_.seed);
  std::vector<EpochRow> rows;
  RunResult r = train_run(*m, cross_entropy_objective(), *loader_, d,
                          {.name = name + " (CE)", .epochs = args_.epochs, .lr = args_.lr, .restart_epochs = true},
                          rows);
  rows_.insert(rows_.end(), rows.begin(), rows.end());
  return baselines_[name] = r;
}

ChainRun Context::chain(const std::vector<std::string>& path) {
  RETORT_CHECK(path.size() >= 2, "kd_assistant: a chain needs a teacher and a student");
  const CifarData& d = data();
  auto prefix = [&](std::size_t k) {  // "a>b>…" of path[0 … k]
    std::string s;
    for (std::size_t i = 0; i <= k; ++i) s += (i ? ">" : "") + path[i];
    return s;
  };
  std::size_t first = 1;  // the first stage not in the memo
  while (first < path.size() && stages_.count(prefix(first))) ++first;
  if (first < path.size()) {
    std::shared_ptr<nn::Module> from =
        first == 1 ? teacher(path[0]).net : stages_.at(prefix(first - 1)).model;
    std::vector<kd::ChainStage> todo;
    for (std::size_t k = first; k < path.size(); ++k)
      todo.push_back({prefix(k), [this, name = path[k]] { return make(name, args_.seed); }, args_.epochs});
    std::unique_ptr<Progress> bar;
    kd::ChainHooks h;
    h.epoch = [&](std::size_t k, std::int64_t e, const kd::ChainHooks::TrainFn& train) {
      bar = std::make_unique<Progress>(todo[k].name + " epoch " + std::to_string(e + 1) + "/" +
                                           std::to_string(args_.epochs),
                                       loader_->num_batches(), loader_->dataset().size());
      loader_->set_epoch(e);
      while (std::optional<data::Batch> b = loader_->next())
        train({b->inputs.to(d.device), b->targets.to(d.device), b->indices.to_vector<std::int64_t>()});
    };
    h.on_step = [&](const kd::ChainStep& s) {
      const Tensor& z = s.result->student_logits;
      bar->update(z.size(0), s.result->total_value(),
                  sum(eq(argmax(z, 1), s.data->y)).item<std::int64_t>());
    };
    h.optimizer = [&](nn::Module& m, std::size_t) {
      return std::make_unique<optim::Adam>(m.parameters(), optim::AdamOptions{.lr = args_.lr});
    };
    h.evaluate = [&](nn::Module& m) { return evaluate(m, d.test_images, d.test_labels); };
    h.on_epoch = [&](std::size_t k, std::int64_t e, double acc) {
      const double secs = bar->seconds(), n = static_cast<double>(loader_->dataset().size());
      rows_.push_back({todo[k].name, static_cast<int>(e + 1), bar->mean_loss(), bar->accuracy(), acc, secs, n / secs});
      std::printf("\r%s epoch %lld/%d loss %.4f train_acc %.1f%% test_acc %.2f%% (%s, %.0f img/s)          \n",
                  todo[k].name.c_str(), static_cast<long long>(e + 1), args_.epochs, bar->mean_loss(),
                  bar->accuracy(), acc, clock_str(secs).c_str(), n / secs);
    };
    auto results = kd::run_assistant_chain(
        from, todo, h, {.T = args_.T, .lambda = args_.lambda, .cache_teacher = true});
    for (auto& r : results) stages_[r.name] = std::move(r);
  }
  ChainRun run{path, {}};
  for (std::size_t k = 1; k < path.size(); ++k) run.stages.push_back(stages_.at(prefix(k)));
  return run;
}

void Context::report(const std::string& study, const Table& table) {
  table.print();
  const std::string csv = args_.out + "/" + study + ".csv";
  table.write_csv(csv);
  std::printf("table: %s\n", csv.c_str());
  if (!args_.csv.empty()) {
    std::string cells;
    for (const auto& r : table.rows)
      for (std::size_t c = 1; c < r.size(); ++c) cells += study + ',' + r[0] + ',' + table.header[c] + ',' + r[c] + '\n';
    append_file_atomically(args_.csv, cells, "kd_assistant --csv", "study,row,column,value\n");
  }
}

void Context::write_epoch_rows() const { write_epoch_csv(args_.out + "/metrics.csv", rows_); }

}  // namespace retort::examples::assistant
