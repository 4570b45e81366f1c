// The data-free phase of kd_datafree. DeepInversion's pool is trained on through the examples'
// ordinary train_run (a CifarData whose train split is the pool), so the student's loop, progress
// line, evaluation and CSV rows are those of every other example; DAFL trains its generator and
// the student in one loop, as its reference does, so it has its own.
#include "datafree/synth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/progress.h"
#include "data/png.h"
#include "kd/dafl_generator.h"
#include "kd/response.h"
#include "optim/adam.h"
#include "retort.h"

namespace retort::examples::datafree {

namespace {

// x·std + mean per channel: normalised images back to [0, 1] pixel space (not clamped).
Tensor unnormalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& std) {
  NoGradGuard ng;
  Tensor m = from_vector(mean, {1, 3, 1, 1}), s = from_vector(std, {1, 3, 1, 1});
  return x * s + m;
}

}  // namespace

Pool synthesize_pool(nn::Module& teacher, const Options& o) {
  Generator gen(o.seed);
  // Balanced targets: each class equally often (up to one), in a seeded random order.
  Tensor order = randperm(o.di_images, &gen);
  std::vector<std::int64_t> t(static_cast<std::size_t>(o.di_images));
  std::vector<std::int64_t> ord = order.to_vector<std::int64_t>();
  for (std::int64_t i = 0; i < o.di_images; ++i) t[static_cast<std::size_t>(ord[i])] = i % o.classes;
  Tensor targets = from_vector(t, {o.di_images});
  const std::int64_t batches = (o.di_images + o.di_batch - 1) / o.di_batch;
  Progress timer("inversion", 1, o.di_images);
  std::vector<Tensor> parts;
  for (std::int64_t k = 0; k < batches; ++k) {
    const std::int64_t len = std::min(o.di_batch, o.di_images - k * o.di_batch);
    Tensor y = narrow(targets, 0, k * o.di_batch, len).contiguous();
    Progress bar("inversion batch " + std::to_string(k + 1) + "/" + std::to_string(batches), o.di.iterations,
                 len * o.di.iterations);
    kd::DeepInversionStep last{};
    parts.push_back(kd::deep_inversion(teacher, y, {3, 32, 32}, o.di, gen, [&](const kd::DeepInversionStep& s) {
      bar.update(len, s.total, static_cast<std::int64_t>(s.accuracy * static_cast<double>(len) / 100.0 + 0.5));
      last = s;
    }));
    std::printf("\rinversion batch %lld/%lld: %d steps, loss %.3f (ce %.3f, bn %.3f, tv %.1f), teacher hits its "
                "target on %.1f%% (%s)\n",
                static_cast<long long>(k + 1), static_cast<long long>(batches), o.di.iterations, last.total, last.ce,
                last.bn, last.tv, last.accuracy, clock_str(bar.seconds()).c_str());
  }
  return {cat(parts, 0), targets, timer.seconds()};
}

RunResult train_on_pool(nn::Module& student, nn::Module& teacher, const Pool& pool, const CifarData& test,
                        const Options& o, const std::string& name, std::vector<EpochRow>& rows) {
  CifarData d = test;  // its train split: the synthesised pool
  d.train_norm = pool.images;
  d.train_raw = unnormalize(pool.images, test.mean, test.std);
  d.train_labels = pool.targets;
  auto loader = make_loader(d, std::min(o.batch, pool.images.size(0)), o.seed, /*augment=*/true);
  Objective obj;
  obj.terms.push_back(seed_kl_term(o.T, 1.0));
  return train_run(student, obj, *loader, d,
                   {.name = name, .epochs = o.epochs, .lr = o.lr, .teacher = &teacher, .restart_epochs = true}, rows);
}

RunResult train_dafl(nn::Module& student, nn::Module& teacher, const CifarData& test, const Options& o,
                     const std::string& name, std::vector<EpochRow>& rows, Pool* samples) {
  Generator gen(o.seed);
  kd::DaflGenerator g(o.latent, 32, 3, o.gen_width);
  g.to(test.device);
  student.to(test.device);
  teacher.to(test.device);
  teacher.eval();
  teacher.requires_grad_(false);
  nn::FeatureTap feature = teacher.tap(o.feature_tap);
  optim::Adam opt_g(g.parameters(), {.lr = o.lr_g});
  optim::Adam opt_s(student.parameters(), {.lr = o.lr});
  RunResult r{name, student.num_parameters()};
  const int per_epoch = std::max(1, o.dafl_iters / o.epochs);
  double seconds = 0, images = 0;
  int step = 0;
  for (int e = 1; e <= o.epochs; ++e) {
    const int steps = e == o.epochs ? o.dafl_iters - step : per_epoch;
    Progress bar(name + " epoch " + std::to_string(e) + "/" + std::to_string(o.epochs), steps, steps * o.batch);
    double lg_sum = 0;
    g.train();
    student.train();
    for (int i = 0; i < steps; ++i, ++step) {
      opt_g.zero_grad(true);
      opt_s.zero_grad(true);
      Tensor z = randn({o.batch, o.latent}, kFloat32, &gen).to(test.device);
      Tensor img = g(z);
      Tensor t = teacher(img);
      kd::DaflLoss lg = kd::dafl_generator_loss(t, feature.output(), o.dafl);
      Tensor s = student(detach(img));
      Tensor lkd = kd::kd_loss(s, detach(t), {.T = o.T});
      Tensor total = lg.total + lkd;
      const double lg_v = lg.total.item<double>();
      RETORT_CHECK(std::isfinite(total.item<double>()), name, ": step ", step, ": loss is not finite (L_G ", lg_v,
                   ", KD ", lkd.item<double>(), ")");
      lg_sum += lg_v;
      total.backward();
      opt_g.step();
      opt_s.step();
      feature.clear();
      NoGradGuard ng;
      bar.update(o.batch, lkd.item<double>(), sum(eq(argmax(s, 1), argmax(t, 1))).item<std::int64_t>());
    }
    seconds += bar.seconds();
    images += static_cast<double>(steps * o.batch);
    const double acc = evaluate(student, test.test_images, test.test_labels);
    std::printf("\r%s epoch %d/%d KD %.4f agreement %.1f%% L_G %.4f test_acc %.2f%% (%s, %.0f img/s)          \n",
                name.c_str(), e, o.epochs, bar.mean_loss(), bar.accuracy(), lg_sum / steps, acc, clock_str(bar.seconds()).c_str(),
                bar.images_per_second());
    rows.push_back({name, e, bar.mean_loss(), bar.accuracy(), acc, bar.seconds(), bar.images_per_second()});
    r.last = acc;
    r.best = std::max(r.best, acc);
  }
  r.seconds = seconds;
  r.images_per_second = images / seconds;
  if (samples) {
    NoGradGuard ng;
    Tensor img = g(randn({std::max<std::int64_t>(o.batch, 16 * o.classes), o.latent}, kFloat32, &gen).to(test.device));
    *samples = {img.to(kCPU), argmax(teacher(img), 1).to(kCPU), 0};
  }
  return r;
}

void write_class_grid(const std::string& path, const Pool& pool, const std::vector<double>& mean,
                      const std::vector<double>& std, std::int64_t classes, std::int64_t per_class) {
  Tensor raw = unnormalize(pool.images, mean, std);
  std::vector<std::int64_t> t = pool.targets.to_vector<std::int64_t>();
  std::vector<Tensor> cells;
  for (std::int64_t k = 0; k < classes; ++k) {
    std::int64_t found = 0;
    for (std::size_t i = 0; i < t.size() && found < per_class; ++i)
      if (t[i] == k) {
        cells.push_back(select(raw, 0, static_cast<std::int64_t>(i)));
        ++found;
      }
    for (; found < per_class; ++found) cells.push_back(ones({3, 32, 32}));  // none of this class: white
  }
  data::write_png(path, data::image_grid(stack(cells, 0), classes, per_class, 2));
}

}  // namespace retort::examples::datafree
