// train_run: the examples' training loop (common/kd_experiment.h) with its checkpoints
// (common/run_checkpoint.h). The loop pulls batches with loader.next() rather than a range-for so
// that a resumed epoch can re-enter the loader's epoch at a given batch: set_epoch(E) rebuilds
// that epoch's order and augmentation stream, and the batches already trained are drawn and
// dropped, which replays every random draw they made.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "common/distributed.h"
#include "common/kd_experiment.h"
#include "common/progress.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "retort.h"
#include "retort_config.h"

#if RETORT_WITH_MPI
#include "dist/data_parallel.h"
#endif

namespace retort::examples {
namespace {

// Fills the Context's teacher side from the cache rows of the batch or from a live forward.
void teacher_side(const RunOptions& o, bool live, std::vector<nn::FeatureTap>& taps,
                  const std::vector<std::string>& paths, const data::Batch& b, kd::Context& ctx) {
  if (!live) {
    const Tensor rows = b.indices.to(o.cache->logits.device());
    ctx.teacher_logits = index_select(o.cache->logits, 0, rows);
    for (const auto& p : paths) ctx.teacher_features[p] = index_select(o.cache->features.at(p), 0, rows);
    return;
  }
  NoGradGuard ng;
  ctx.teacher_logits = (*o.teacher)(b.inputs.to(ctx.targets.device()));
  for (auto& t : taps) {
    ctx.teacher_features[t.path()] = t.output();
    t.clear();
  }
}

// Where a run continues, and what it carried so far.
struct RunState {
  int epoch = 1;                   // run epoch in progress (1-based)
  std::int64_t batch = 0;          // batches of it already trained
  std::int64_t loader_epoch = -1;  // the loader's epoch number for it; −1: the loader's next
  std::int64_t step = 0;
  double total_images = 0;
  Progress::Sums progress;
  bool done = false;
};

std::string optimizer_text(const RunOptions& o) {
  if (!o.sgd) return "adam";
  std::string s = "sgd momentum " + short_double(o.sgd->momentum) + " wd " + short_double(o.sgd->weight_decay) +
                  " gamma " + short_double(o.sgd->gamma) + " milestones";
  for (int m : o.sgd->milestones) s += " " + std::to_string(m);
  return s;
}

Fingerprint fingerprint(nn::Module& net, const Objective& obj, const data::DataLoader& loader,
                        const RunOptions& o) {
  Fingerprint f{{"run", o.name},
                {"epochs", std::to_string(o.epochs)},
                {"lr", short_double(o.lr)},
                {"optimizer", optimizer_text(o)},
                {"batch", std::to_string(loader.options().batch_size)},
                {"seed", std::to_string(loader.options().seed)},
                {"images", std::to_string(loader.dataset().size())},
                {"parameters", std::to_string(net.num_parameters())},
                {"teacher", o.teacher ? "yes" : "no"}};
  std::string terms;
  for (const auto& t : obj.terms) terms += t.name + ":" + short_double(t.weight) + " ";
  f["terms"] = terms;
  f["modules"] = std::to_string(obj.modules.size());
  return f;
}

void put_tensors(nn::TensorMap& out, const std::string& prefix, const nn::NamedTensors& state) {
  for (const auto& [k, v] : state) out[prefix + k] = v;
}

nn::TensorMap take_tensors(const nn::TensorMap& all, const std::string& prefix) {
  nn::TensorMap out;
  for (const auto& [k, v] : all)
    if (k.compare(0, prefix.size(), prefix) == 0) out[k.substr(prefix.size())] = v;
  return out;
}

std::string encode_rows(const std::vector<EpochRow>& rows, std::size_t first) {
  std::string s;
  for (std::size_t i = first; i < rows.size(); ++i) {
    const EpochRow& r = rows[i];
    s += std::to_string(r.epoch) + " " + hex_double(r.loss) + " " + hex_double(r.train_acc) + " " +
         hex_double(r.test_acc) + " " + hex_double(r.seconds) + " " + hex_double(r.images_per_second) + "\n";
  }
  return s;
}

void decode_rows(const std::string& s, const std::string& run, std::vector<EpochRow>& rows) {
  std::istringstream is(s);
  std::string line;
  while (std::getline(is, line)) {
    std::istringstream ls(line);
    std::string f[6];
    for (auto& x : f) ls >> x;
    rows.push_back({run, static_cast<int>(parse_int(f[0], "rows.epoch")), parse_double(f[1], "rows.loss"),
                    parse_double(f[2], "rows.train_acc"), parse_double(f[3], "rows.test_acc"),
                    parse_double(f[4], "rows.seconds"), parse_double(f[5], "rows.img/s")});
  }
}

void save(const std::string& path, nn::Module& net, const Objective& obj, const optim::Optimizer& opt,
          const Fingerprint& fp, const RunState& st, const RunResult& r, const std::vector<EpochRow>& rows,
          std::size_t first_row) {
  nn::Checkpoint c;
  put_tensors(c.tensors, "net.", net.state_dict());
  for (std::size_t i = 0; i < obj.modules.size(); ++i)
    put_tensors(c.tensors, "module." + std::to_string(i) + ".", obj.modules[i]->state_dict());
  optim::OptimizerState os = opt.state_dict();
  for (const auto& [k, v] : os.tensors) c.tensors["optim." + k] = v;
  for (const auto& [k, v] : os.values) c.values["optim." + k] = v;
  c.values["config"] = encode_fingerprint(fp);
  c.values["epoch"] = std::to_string(st.epoch);
  c.values["batch"] = std::to_string(st.batch);
  c.values["loader_epoch"] = std::to_string(st.loader_epoch);
  c.values["step"] = std::to_string(st.step);
  c.values["total_images"] = hex_double(st.total_images);
  c.values["done"] = st.done ? "1" : "0";
  const Progress::Sums& p = st.progress;
  c.values["progress"] = std::to_string(p.done) + " " + std::to_string(p.seen) + " " + std::to_string(p.correct) +
                         " " + hex_double(p.loss_sum) + " " + hex_double(p.seconds);
  c.values["result"] = hex_double(r.last) + " " + hex_double(r.best) + " " + hex_double(r.seconds) + " " +
                       hex_double(r.images_per_second);
  c.values["rows"] = encode_rows(rows, first_row);
  c.values["rng"] = default_generator().state();
  for (std::size_t i = 0; i < obj.generators.size(); ++i)
    c.values["generator." + std::to_string(i)] = obj.generators[i]->state();
  nn::save_checkpoint(c, path);
}

const std::string& value(const nn::Checkpoint& c, const std::string& path, const std::string& k) {
  auto it = c.values.find(k);
  RETORT_CHECK(it != c.values.end(), "resume: '", path, "' has no value '", k, "'");
  return it->second;
}

// Restores everything save() wrote; fills st, r and rows. Modules and the optimiser check their
// own keys and shapes (all-or-nothing each).
void restore(const std::string& path, nn::Module& net, const Objective& obj, optim::Optimizer& opt,
             const Fingerprint& fp, RunState& st, RunResult& r, std::vector<EpochRow>& rows) {
  nn::Checkpoint c = nn::load_checkpoint(path);
  check_fingerprint(path, decode_fingerprint(value(c, path, "config")), fp);
  net.load_state_dict(take_tensors(c.tensors, "net."));
  for (std::size_t i = 0; i < obj.modules.size(); ++i)
    obj.modules[i]->load_state_dict(take_tensors(c.tensors, "module." + std::to_string(i) + "."));
  optim::OptimizerState os;
  for (const auto& [k, v] : take_tensors(c.tensors, "optim.")) os.tensors.emplace_back(k, v);
  for (const auto& [k, v] : c.values)
    if (k.compare(0, 6, "optim.") == 0) os.values[k.substr(6)] = v;
  opt.load_state_dict(os);
  st.epoch = static_cast<int>(parse_int(value(c, path, "epoch"), "epoch"));
  st.batch = parse_int(value(c, path, "batch"), "batch");
  st.loader_epoch = parse_int(value(c, path, "loader_epoch"), "loader_epoch");
  st.step = parse_int(value(c, path, "step"), "step");
  st.total_images = parse_double(value(c, path, "total_images"), "total_images");
  st.done = value(c, path, "done") == "1";
  std::istringstream p(value(c, path, "progress")), res(value(c, path, "result"));
  std::string f[5];
  for (auto& x : f) p >> x;
  st.progress = {parse_int(f[0], "progress"), parse_int(f[1], "progress"), parse_int(f[2], "progress"),
                 parse_double(f[3], "progress"), parse_double(f[4], "progress")};
  for (int i = 0; i < 4; ++i) res >> f[i];
  r.last = parse_double(f[0], "result");
  r.best = parse_double(f[1], "result");
  r.seconds = parse_double(f[2], "result");
  r.images_per_second = parse_double(f[3], "result");
  decode_rows(value(c, path, "rows"), r.name, rows);
  default_generator().set_state(value(c, path, "rng"));
  for (std::size_t i = 0; i < obj.generators.size(); ++i)
    obj.generators[i]->set_state(value(c, path, "generator." + std::to_string(i)));
}

}  // namespace

RunResult train_run(nn::Module& net, const Objective& obj, data::DataLoader& loader, const CifarData& d,
                    const RunOptions& o, std::vector<EpochRow>& rows) {
  RETORT_CHECK(!obj.terms.empty(), "train_run: '", o.name, "' has no loss terms");
  RunResult r{o.name, net.num_parameters()};
  net.to(d.device);
  for (const auto& m : obj.modules) m->to(d.device);
  if (o.teacher) o.teacher->to(d.device);
  std::vector<Tensor> params = net.parameters();
  for (const auto& m : obj.modules) {
    auto mp = m->parameters();
    params.insert(params.end(), mp.begin(), mp.end());
  }
  std::unique_ptr<optim::Optimizer> owned;
  if (o.sgd)
    owned = std::make_unique<optim::SGD>(
        params, optim::SGDOptions{.lr = o.lr, .momentum = o.sgd->momentum, .weight_decay = o.sgd->weight_decay});
  else
    owned = std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = o.lr});
  optim::Optimizer& opt = *owned;
  if (o.restart_epochs) loader.set_epoch(0);
#if RETORT_WITH_MPI
  // Distributed: rank 0's weights everywhere, gradients averaged during backward (distributed.h).
  std::unique_ptr<dist::DataParallel> ddp;
  if (dist_info().on) {
    std::vector<nn::Module*> replicated{&net};
    for (const auto& m : obj.modules) replicated.push_back(m.get());
    ddp = std::make_unique<dist::DataParallel>(replicated, dist::ProcessGroup::world());
  }
#endif
  const bool writer = dist_info().main();  // the one rank that writes checkpoints
  double backward_seconds = 0;             // this run's backward calls (the all-reduce wait included)

  const bool checkpoints = o.checkpoint && !o.checkpoint->dir.empty();
  const std::string ckpt = checkpoints ? next_checkpoint_path(*o.checkpoint, o.name) : std::string();
  const Fingerprint fp = checkpoints ? fingerprint(net, obj, loader, o) : Fingerprint{};
  const std::size_t first_row = rows.size();
  RunState st;
  if (checkpoints && o.checkpoint->resume && std::filesystem::exists(ckpt)) {
    restore(ckpt, net, obj, opt, fp, st, r, rows);
    std::printf("%s: resumed from %s (epoch %d, batch %lld%s)\n", o.name.c_str(), ckpt.c_str(), st.epoch,
                static_cast<long long>(st.batch), st.done ? ", finished" : "");
    loader.set_epoch(st.loader_epoch);
    if (st.done) return r;
  }

  const bool live = o.teacher && !(o.cache && o.cache->covers(obj.teacher_taps));
  std::vector<nn::FeatureTap> teacher_taps, student_taps;
  if (o.teacher) {
    o.teacher->eval();
    if (live)
      for (const auto& p : obj.teacher_taps) teacher_taps.push_back(o.teacher->tap(p));
  }
  for (const auto& p : obj.student_taps) student_taps.push_back(net.tap(p));
  net.train();
  for (const auto& m : obj.modules) m->train();
  const std::int64_t n = loader.dataset().size(), batches = loader.num_batches();
  // This rank's images per epoch (all of them in one process), for the progress line.
  const std::int64_t local_n = dist_info().on ? (n + dist_info().size - 1) / dist_info().size : n;
  const std::int64_t every = checkpoints ? o.checkpoint->every_batches : 0;
  for (int e = st.epoch; e <= o.epochs; ++e) {
    if (o.sgd) opt.set_lr(sgd_epoch_lr(*o.sgd, o.lr, e));
    Progress bar(o.name + " epoch " + std::to_string(e) + "/" + std::to_string(o.epochs), batches, local_n);
    std::int64_t done = 0;
    if (e == st.epoch && st.batch > 0) {  // resumed mid-epoch: replay the batches already trained
      bar.restore(st.progress);
      for (; done < st.batch; ++done) RETORT_CHECK(loader.next(), "resume: the epoch has fewer batches than ", st.batch);
    }
    while (std::optional<data::Batch> ob = loader.next()) {
      const data::Batch& b = *ob;
      if (obj.on_batch) obj.on_batch(b);
      opt.zero_grad();
      kd::Context ctx;
      ctx.targets = b.targets.to(d.device);
      ctx.step = st.step;
      if (o.teacher) teacher_side(o, live, teacher_taps, obj.teacher_taps, b, ctx);
      ctx.student_logits = net(b.inputs.to(d.device));
      for (auto& t : student_taps) {
        ctx.student_features[t.path()] = t.output();
        t.clear();
      }
      if (obj.on_context) obj.on_context(ctx);
      Tensor total;
      std::vector<Tensor> values;
      std::vector<double> weights;
      for (const auto& term : obj.terms) {
        values.push_back(term.fn(ctx));
        weights.push_back(term.weight * (term.schedule ? term.schedule(st.step) : 1.0));
        Tensor weighted = values.back() * weights.back();
        total = total.defined() ? total + weighted : weighted;
      }
      const double loss = total.item<double>();
      if (!std::isfinite(loss)) {
        std::ostringstream terms;
        for (std::size_t j = 0; j < values.size(); ++j)
          terms << (j ? ", " : "") << obj.terms[j].name << " " << weights[j] << "·" << values[j].item<double>();
        fail("train_run: '", o.name, "' epoch ", e, " batch ", done + 1, "/", batches, ": the loss is ", loss,
             " (", terms.str(), "); stopping rather than training on it (a lower --lr, or --detect-anomaly "
             "to find the op that produced it)");
      }
      const auto bw0 = std::chrono::steady_clock::now();
      total.backward();
      backward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - bw0).count();
      opt.step();
      ++st.step;
      ++done;
      bar.update(b.size(), loss, sum(eq(argmax(ctx.student_logits, 1), ctx.targets)).item<std::int64_t>());
      if (writer && every > 0 && done % every == 0 && done < batches) {
        RunState now{e, done, loader.epoch(), st.step, st.total_images, bar.sums(), false};
        save(ckpt, net, obj, opt, fp, now, r, rows, first_row);
      }
    }
    double secs = bar.seconds();
    double ips = static_cast<double>(n) / secs;
    double mean_loss = bar.mean_loss(), train_acc = bar.accuracy();
#if RETORT_WITH_MPI
    if (ddp) {  // the epoch's loss and accuracy over every rank's samples; rank 0's BN statistics
      const Progress::Sums ps = bar.sums();
      Tensor sums = from_vector(std::vector<double>{ps.loss_sum, static_cast<double>(ps.seen),
                                                    static_cast<double>(ps.correct)}, {3}, kFloat64);
      ddp->group().all_reduce(sums);
      const auto v = sums.to_vector<double>();
      mean_loss = v[1] > 0 ? v[0] / v[1] : 0;
      train_acc = v[1] > 0 ? 100.0 * v[2] / v[1] : 0;
      ddp->broadcast_buffers();
    }
#endif
    double acc = evaluate(net, d.test_images, d.test_labels);
    r.last = acc;
    r.best = std::max(r.best, acc);
    r.seconds += secs;
    st.total_images += static_cast<double>(n);
    rows.push_back({o.name, e, mean_loss, train_acc, acc, secs, ips});
    const std::string note = o.epoch_note ? " " + o.epoch_note() : std::string();
    std::printf("\r%s epoch %d/%d loss %.4f train_acc %.1f%% test_acc %.2f%%%s (%s, %.0f img/s)          \n",
                o.name.c_str(), e, o.epochs, mean_loss, train_acc, acc, note.c_str(), clock_str(secs).c_str(), ips);
    if (o.on_epoch) o.on_epoch(e, acc);
    r.images_per_second = r.seconds > 0 ? st.total_images / r.seconds : 0;
    if (checkpoints && writer) {
      RunState now{e + 1, 0, loader.epoch(), st.step, st.total_images, {}, e == o.epochs};
      save(ckpt, net, obj, opt, fp, now, r, rows, first_row);
    }
  }
  r.images_per_second = r.seconds > 0 ? st.total_images / r.seconds : 0;
#if RETORT_WITH_MPI
  if (ddp && ddp->stats().rounds > 0) {  // docs/distributed.md: what the communication costs
    const dist::DataParallelStats& ds = ddp->stats();
    const double steps = static_cast<double>(ds.rounds), alone = ddp->time_all_reduce();
    const double bw = backward_seconds / steps, exposed = ds.exposed_seconds / steps;
    std::printf("%s: data-parallel over %d ranks: %.2f MB of gradients per step in %zu bucket(s); backward %.1f ms/step, "
                "%.1f ms of it waiting for all-reduces after the last gradient; the all-reduces alone take %.1f ms/step "
                "(%.0f%% hidden behind backward)\n",
                o.name.c_str(), dist_info().size, ds.bytes / steps / 1e6, ddp->num_buckets(), bw * 1e3, exposed * 1e3,
                alone * 1e3, alone > 0 ? std::clamp(100.0 * (1.0 - exposed / alone), 0.0, 100.0) : 0.0);
  }
#endif
  return r;
}

}  // namespace retort::examples
