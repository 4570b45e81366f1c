// The studies that vary the logit-distillation recipe of the seed experiment (StudentNet from
// TeacherNet, kd_weight·T²·KL + ce_weight·CE, seed values T = 2, 0.25/0.75): temperature,
// loss weights, teacher quality, KL against logit MSE, augmentation, distillation epochs.
// Each row is one run of --epochs student epochs unless the study varies the epochs.
#include <cstdio>

#include "kd/response.h"
#include "studies/study.h"

namespace retort::examples::studies {

namespace {

std::string gain(double a, double base) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f", a - base);
  return buf;
}

// "(teacher 10 epochs, 71.23%; 10 student epochs, N train images)"
std::string setting(Context& c, int student_epochs, int teacher_epochs = 0) {
  int te = teacher_epochs > 0 ? teacher_epochs : c.args().teacher_epochs;
  char buf[160];
  std::snprintf(buf, sizeof buf, "(teacher %d epochs, %.2f%%; %d student epochs, %lld train images)", te,
                c.teacher(te).acc, student_epochs, static_cast<long long>(c.data().train_labels.numel()));
  return buf;
}

}  // namespace

void temperature(Context& c) {
  const int E = c.args().epochs;
  RunResult base = c.run(c.baseline_spec(E)).result(E);
  Table t{"temperature: 0.25·T²·KL + 0.75·CE " + setting(c, E), {"T", "last acc", "best acc", "last vs CE"}, {}};
  t.add({"CE only", fmt(base.last, 2), fmt(base.best, 2), "+0.00"});
  for (double T : {1.0, 2.0, 5.0, 10.0, 20.0}) {
    RunResult r = c.run(c.kd_spec(E, T, 0.25, 0.75)).result(E);
    t.add({"T=" + fmt(T, 0), fmt(r.last, 2), fmt(r.best, 2), gain(r.last, base.last)});
  }
  c.report("temperature", t, {2, 3}, "test accuracy (%)");
}

void weights(Context& c) {
  const int E = c.args().epochs;
  RunResult base = c.run(c.baseline_spec(E)).result(E);
  Table t{"weights: kd·T²·KL + ce·CE at T = 2 " + setting(c, E), {"KL/CE", "last acc", "best acc", "last vs CE"}, {}};
  t.add({"0/1 (CE only)", fmt(base.last, 2), fmt(base.best, 2), "+0.00"});
  for (auto [kw, cw] : {std::pair{0.1, 0.9}, std::pair{0.25, 0.75}, std::pair{0.5, 0.5}, std::pair{0.9, 0.1}}) {
    RunResult r = c.run(c.kd_spec(E, 2.0, kw, cw)).result(E);
    t.add({fmt(kw, 2) + "/" + fmt(cw, 2), fmt(r.last, 2), fmt(r.best, 2), gain(r.last, base.last)});
  }
  c.report("weights", t, {2, 3}, "test accuracy (%)");
}

void teacher_quality(Context& c) {
  const int E = c.args().epochs;
  std::vector<int> list = scale_epochs({2, 5, 10, 20}, c.args().teacher_epochs);
  std::vector<TeacherEntry*> ts = c.teachers(list);
  RunResult base = c.run(c.baseline_spec(E)).result(E);
  Table t{"teacher-quality: 0.25·T²·KL + 0.75·CE, T = 2, " + std::to_string(E) + " student epochs; CE-only student " +
              fmt(base.last, 2) + "%",
          {"teacher epochs", "teacher acc", "KD last acc", "KD best acc", "last vs CE"}, {}};
  for (std::size_t i = 0; i < list.size(); ++i) {
    RunResult r = c.run(c.kd_spec(E, 2.0, 0.25, 0.75, false, list[i])).result(E);
    t.add({std::to_string(list[i]), fmt(ts[i]->acc, 2), fmt(r.last, 2), fmt(r.best, 2), gain(r.last, base.last)});
  }
  c.report("teacher-quality", t, {2, 3}, "test accuracy (%)");
}

void kl_vs_mse(Context& c) {
  const int E = c.args().epochs;
  RunResult base = c.run(c.baseline_spec(E)).result(E);
  RunResult kl = c.run(c.kd_spec(E, 2.0, 0.25, 0.75)).result(E);
  // Ba & Caruana's logit regression: mean (s − t)² over N·K, beside CE or alone.
  auto mse_spec = [&](const std::string& key, double mse_w, double ce_w) {
    RunSpec s = c.kd_spec(E, 2.0, 0.25, 0.75);
    s.key = s.name = key + "_t" + std::to_string(c.args().teacher_epochs);
    s.objective = [=] {
      Objective o = cross_entropy_objective();
      o.terms[0].weight = ce_w;
      o.terms.insert(o.terms.begin(), {"mse", mse_w, [](const kd::Context& x) {
                                          return kd::logit_mse(x.student_logits, x.teacher_logits); }});
      if (ce_w == 0) o.terms.pop_back();
      return o;
    };
    return c.run(s).result(E);
  };
  RunResult mse = mse_spec("mse_0.25_ce_0.75", 0.25, 0.75), only = mse_spec("mse_only", 1.0, 0.0);
  Table t{"kl-vs-mse: KL on softened logits vs logit MSE " + setting(c, E), {"objective", "last acc", "best acc", "last vs CE"}, {}};
  t.add({"CE only", fmt(base.last, 2), fmt(base.best, 2), "+0.00"});
  t.add({"0.25·T²·KL (T=2) + 0.75·CE", fmt(kl.last, 2), fmt(kl.best, 2), gain(kl.last, base.last)});
  t.add({"0.25·MSE + 0.75·CE", fmt(mse.last, 2), fmt(mse.best, 2), gain(mse.last, base.last)});
  t.add({"MSE alone (Ba & Caruana)", fmt(only.last, 2), fmt(only.best, 2), gain(only.last, base.last)});
  c.report("kl-vs-mse", t, {2, 3}, "test accuracy (%)");
}

void augmentation(Context& c) {
  const int E = c.args().epochs;
  Table t{"augmentation: random crop (pad 4) + horizontal flip " + setting(c, E),
          {"run", "teacher logits", "last acc", "best acc", "train img/s"}, {}};
  for (bool aug : {false, true}) {
    std::string tag = aug ? "crop+flip" : "no aug";
    RunResult b = c.run(c.baseline_spec(E, aug)).result(E);
    RunResult k = c.run(c.kd_spec(E, 2.0, 0.25, 0.75, aug)).result(E);
    t.add({tag + " / CE", "-", fmt(b.last, 2), fmt(b.best, 2), fmt(b.images_per_second, 0)});
    t.add({tag + " / KD", aug ? "live (cache off)" : "cached", fmt(k.last, 2), fmt(k.best, 2),
           fmt(k.images_per_second, 0)});
  }
  c.report("augmentation", t, {3, 4}, "test accuracy (%)");
}

void epochs(Context& c) {
  std::vector<int> list = scale_epochs({5, 10, 20}, c.args().epochs);
  int longest = list.back();
  const Trained& base = c.run(c.baseline_spec(longest));
  const Trained& kd = c.run(c.kd_spec(longest, 2.0, 0.25, 0.75));
  Table t{"epochs: one run of " + std::to_string(longest) + " epochs each, test accuracy after E epochs " +
              setting(c, longest),
          {"epochs", "CE acc", "KD acc", "KD vs CE"}, {}};
  for (int e : list)
    t.add({std::to_string(e), fmt(base.accs[e - 1], 2), fmt(kd.accs[e - 1], 2), gain(kd.accs[e - 1], base.accs[e - 1])});
  c.report("epochs", t, {2, 3}, "test accuracy (%)");
}

}  // namespace retort::examples::studies
