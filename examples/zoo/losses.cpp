// Each loss is a kd::Term over the Context's logits and tapped features; the library losses do
// the math (and detach the teacher), this file only wires taps, extra modules and weights.
#include "zoo/losses.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <set>

#include "autograd/ops/elementwise.h"
#include "kd/kd.h"
#include "nn/functional.h"
#include "nn/linear.h"
#include "tensor/error.h"

namespace retort::examples::zoo {

namespace {

std::int64_t numel_of(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

const std::vector<LossInfo>& loss_table() {
  static const std::vector<LossInfo> t = {
      {"ce", 1.0, 1.0, "cross-entropy alone (the baseline student)"},
      {"kd", 0.9, 0.1, "Hinton KD, T = 4: RepDistiller README (-r 0.1 -a 0.9), mdistiller KD"},
      {"dkd", 1.0, 1.0, "DKD alpha 1, beta 8, T 4, warm-up: mdistiller DKD config"},
      {"dist", 1.0, 1.0, "DIST beta = gamma = tau = 1: the official code's defaults"},
      {"mse", 1.0, 1.0, "logit MSE (Ba & Caruana 2014; no reference weight beside CE)"},
      {"fitnet", 100.0, 1.0, "FitNets hint: RepDistiller -b 100, mdistiller FITNET"},
      {"at", 1000.0, 1.0, "attention transfer: RepDistiller -b 1000, mdistiller AT"},
      {"nst", 50.0, 1.0, "NST: RepDistiller -b 50, mdistiller NST"},
      {"vid", 1.0, 1.0, "VID: RepDistiller -b 1, mdistiller VID"},
      {"cosine", 0.25, 0.75, "cosine hidden representation: PyTorch KD tutorial 0.25/0.75"},
      {"sp", 3000.0, 1.0, "similarity preserving: RepDistiller -b 3000, mdistiller SP"},
      {"rkd", 1.0, 1.0, "RKD (distance 25, angle 50 inside): RepDistiller -b 1, mdistiller RKD"},
      {"pkt", 30000.0, 1.0, "PKT: RepDistiller -b 30000, mdistiller PKT"},
      {"fsp", 50.0, 1.0, "FSP: RepDistiller -b 50 (there an init stage; here a plain term)"},
      {"cc", 0.02, 1.0, "correlation congruence: RepDistiller -b 0.02"},
      {"crd", 0.8, 1.0, "CRD: RepDistiller -a 0 -b 0.8, mdistiller CRD"},
  };
  return t;
}

const LossInfo& loss_info(const std::string& name) {
  std::string known;
  for (const auto& l : loss_table()) {
    if (name == l.name) return l;
    known += (known.empty() ? "" : "|") + std::string(l.name);
  }
  fail("kd_zoo: unknown loss '", name, "' (known: ", known, ")");
}

std::vector<WeightedLoss> parse_losses(const std::string& spec) {
  std::vector<WeightedLoss> out;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t end = std::min(spec.find(',', start), spec.size());
    std::string item = spec.substr(start, end - start);
    std::size_t colon = item.find(':');
    std::string name = item.substr(0, colon);
    const LossInfo& info = loss_info(name);
    double w = info.weight;
    if (colon != std::string::npos) {
      // The whole text, a finite number >= 0 ("nan", "inf", " 1", "1x" are refused).
      std::string ws = item.substr(colon + 1);
      auto [end, ec] = std::from_chars(ws.data(), ws.data() + ws.size(), w);
      RETORT_CHECK(ec == std::errc() && end == ws.data() + ws.size() && !ws.empty() && std::isfinite(w) && w >= 0,
                   "kd_zoo: bad weight '", ws, "' for loss '", name, "' (a finite number >= 0)");
    }
    for (const auto& l : out) RETORT_CHECK(l.name != name, "kd_zoo: loss '", name, "' listed twice in '", spec, "'");
    out.push_back({name, w});
    start = end + 1;
  }
  bool has_ce = std::any_of(out.begin(), out.end(), [](const WeightedLoss& l) { return l.name == "ce"; });
  if (!has_ce) out.insert(out.begin(), {"ce", loss_info(out.front().name).ce_weight});
  return out;
}

std::string describe(const std::vector<WeightedLoss>& losses) {
  std::string s;
  for (const auto& l : losses) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %g", s.empty() ? "" : " + ", l.name.c_str(), l.weight);
    s += buf;
  }
  return s;
}

std::string run_name(const std::vector<WeightedLoss>& losses) {
  std::string s;
  for (const auto& l : losses)
    if (l.name != "ce") s += (s.empty() ? "" : "+") + l.name;
  return s.empty() ? "ce" : s;
}

namespace {

// The kd/cost.h estimates of the terms that have one, for the layout's tap widths. cc uses
// RepDistiller's Correlation here, which is O(B·D): no kernel matrices, so the estimate of the
// kernel variants does not apply.
void attach_costs(Objective& o, const Setup& setup) {
  const FeatureLayout& l = setup.layout;
  const std::int64_t map_s = numel_of(l.s_last.shape), map_t = numel_of(l.t_last.shape);
  const std::int64_t vec_s = numel_of(l.s_vec.shape), vec_t = numel_of(l.t_vec.shape);
  for (auto& t : o.terms) {
    if (t.name == "kd") {
      t.cost = [](const kd::Context& c) { return kd::cost::kd(c.targets.size(0), c.student_logits.size(1)); };
    } else if (t.name == "sp") {
      t.cost = [=](const kd::Context& c) { return kd::cost::sp(c.targets.size(0), map_s, map_t); };
    } else if (t.name == "rkd") {
      t.cost = [=](const kd::Context& c) { return kd::cost::rkd(c.targets.size(0), vec_s, vec_t); };
    } else if (t.name == "pkt") {
      t.cost = [=](const kd::Context& c) { return kd::cost::pkt(c.targets.size(0), vec_s, vec_t); };
    } else if (t.name == "crd") {
      const std::int64_t k = setup.crd_k, n = setup.train_labels.numel();
      t.cost = [=](const kd::Context& c) { return kd::cost::crd(c.targets.size(0), vec_s, vec_t, 128, k, n); };
    }
  }
}

// Σ over the layout's stage pairs of loss(student map i, teacher map i) (RepDistiller sums the
// per-stage losses of AT, NST and VID).
template <class Fn>
Tensor stage_sum(const kd::Context& c, const std::vector<TapShape>& s, const std::vector<TapShape>& t, Fn loss) {
  Tensor total;
  for (std::size_t i = 0; i < s.size(); ++i) {
    Tensor v = loss(i, c.student(s[i].path), c.teacher(t[i].path));
    total = total.defined() ? total + v : v;
  }
  return total;
}

std::vector<std::string> paths(const std::vector<TapShape>& v) {
  std::vector<std::string> out;
  for (const auto& t : v) out.push_back(t.path);
  return out;
}

}  // namespace

Objective make_objective(const std::vector<WeightedLoss>& losses, const Setup& setup) {
  Objective o;
  const FeatureLayout& L = setup.layout;
  auto add = [&](const WeightedLoss& l, kd::TermFn fn, std::vector<std::string> s_taps = {},
                 std::vector<std::string> t_taps = {}) {
    o.terms.push_back({l.name, l.weight, std::move(fn)});
    for (const auto& p : s_taps) add_unique(o.student_taps, p);
    for (const auto& p : t_taps) add_unique(o.teacher_taps, p);
  };
  for (const auto& l : losses) {
    const std::string& n = l.name;
    if (n == "ce") {
      add(l, [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); });
    } else if (n == "kd") {
      add(l, [](const kd::Context& c) { return kd::kd_loss(c.student_logits, c.teacher_logits, {.T = 4}); });
    } else if (n == "dkd") {
      add(l, [](const kd::Context& c) { return kd::dkd_loss(c.student_logits, c.teacher_logits, c.targets); });
      o.terms.back().schedule = kd::linear_warmup(std::max<std::int64_t>(1, setup.total_steps / 12));
    } else if (n == "dist") {
      add(l, [](const kd::Context& c) { return kd::dist_loss(c.student_logits, c.teacher_logits); });
    } else if (n == "mse") {
      add(l, [](const kd::Context& c) { return kd::logit_mse(c.student_logits, c.teacher_logits); });
    } else if (n == "fitnet") {
      auto reg = std::make_shared<kd::HintRegressor>(kd::HintKind::ConvReg, L.s_hint.shape, L.t_hint.shape);
      o.modules.push_back(reg);
      add(l, [reg, s = L.s_hint.path, t = L.t_hint.path](const kd::Context& c) {
            return kd::hint_loss(*reg, c.student(s), c.teacher(t)); }, {L.s_hint.path}, {L.t_hint.path});
    } else if (n == "at") {
      add(l, [L](const kd::Context& c) {
            return stage_sum(c, L.s_maps, L.t_maps, [](std::size_t, const Tensor& fs, const Tensor& ft) {
              return kd::at_loss(fs, ft); }); }, paths(L.s_maps), paths(L.t_maps));
    } else if (n == "nst") {
      add(l, [L](const kd::Context& c) {
            return stage_sum(c, L.s_maps, L.t_maps, [](std::size_t, const Tensor& fs, const Tensor& ft) {
              return kd::nst_loss(fs, ft); }); }, paths(L.s_maps), paths(L.t_maps));
    } else if (n == "vid") {
      std::vector<std::shared_ptr<kd::VIDRegressor>> regs;
      for (std::size_t i = 0; i < L.s_maps.size(); ++i) {
        std::int64_t tc = L.t_maps[i].shape[1];
        regs.push_back(std::make_shared<kd::VIDRegressor>(L.s_maps[i].shape[1], tc, tc));
        o.modules.push_back(regs.back());
      }
      add(l, [L, regs](const kd::Context& c) {
            return stage_sum(c, L.s_maps, L.t_maps, [&](std::size_t i, const Tensor& fs, const Tensor& ft) {
              return kd::vid_loss(*regs[i], fs, ft); }); }, paths(L.s_maps), paths(L.t_maps));
    } else if (n == "cosine") {
      const std::int64_t ds = numel_of(L.s_last.shape), dt = numel_of(L.t_last.shape);
      RETORT_CHECK(dt % ds == 0, "kd_zoo: cosine pools the teacher's ", dt, " features to the student's ", ds,
              ", which needs a whole ratio");
      add(l, [s = L.s_last.path, t = L.t_last.path, pool = dt / ds](const kd::Context& c) {
            return kd::cosine_loss(c.student(s), c.teacher(t), {.pool = pool}); }, {L.s_last.path}, {L.t_last.path});
    } else if (n == "sp") {
      add(l, [s = L.s_last.path, t = L.t_last.path](const kd::Context& c) {
            return kd::sp_loss(c.student(s), c.teacher(t)); }, {L.s_last.path}, {L.t_last.path});
    } else if (n == "rkd") {
      add(l, [s = L.s_vec.path, t = L.t_vec.path](const kd::Context& c) {
            return kd::rkd_loss(c.student(s), c.teacher(t)); }, {L.s_vec.path}, {L.t_vec.path});
    } else if (n == "pkt") {
      add(l, [s = L.s_vec.path, t = L.t_vec.path](const kd::Context& c) {
            return kd::pkt_loss(c.student(s), c.teacher(t)); }, {L.s_vec.path}, {L.t_vec.path});
    } else if (n == "fsp") {
      std::vector<std::shared_ptr<kd::HintRegressor>> conn;  // null: channels already equal
      for (std::size_t i = 0; i < L.s_fsp.size(); ++i) {
        Shape ss = L.s_fsp[i].shape, ts = L.t_fsp[i].shape;
        if (ss[1] == ts[1]) {
          conn.push_back(nullptr);
          continue;
        }
        ts[2] = ss[2];
        ts[3] = ss[3];
        conn.push_back(std::make_shared<kd::HintRegressor>(kd::HintKind::Conv1x1, ss, ts));
        o.modules.push_back(conn.back());
      }
      add(l,
          [L, conn](const kd::Context& c) {
            std::vector<Tensor> fs, ft;
            for (std::size_t i = 0; i < L.s_fsp.size(); ++i) {
              Tensor f = c.student(L.s_fsp[i].path);
              fs.push_back(conn[i] ? (*conn[i])(f) : f);
              ft.push_back(c.teacher(L.t_fsp[i].path));
            }
            return kd::fsp_loss(fs, ft);
          },
          paths(L.s_fsp), paths(L.t_fsp));
    } else if (n == "cc") {
      auto es = std::make_shared<nn::Linear>(numel_of(L.s_vec.shape), 128);
      auto et = std::make_shared<nn::Linear>(numel_of(L.t_vec.shape), 128);
      o.modules.push_back(es);
      o.modules.push_back(et);
      add(l,
          [es, et, s = L.s_vec.path, t = L.t_vec.path](const kd::Context& c) {
            return kd::cc_loss((*es)(c.student(s)), (*et)(c.teacher(t)));
          },
          {L.s_vec.path}, {L.t_vec.path});
    } else if (n == "crd") {
      auto crd = std::make_shared<kd::CRD>(numel_of(L.s_vec.shape), numel_of(L.t_vec.shape), setup.train_labels,
                                           kd::CrdOptions{.nce_k = setup.crd_k, .seed = setup.seed});
      auto idx = std::make_shared<Tensor>();
      o.modules.push_back(crd);
      o.generators.push_back(&crd->sampler.generator);
      o.on_batch = [idx](const data::Batch& b) { *idx = b.indices; };
      add(l, [crd, idx, s = L.s_vec.path, t = L.t_vec.path](const kd::Context& c) {
            return crd->forward(c.student(s), c.teacher(t), idx->to(c.targets.device())); },
          {L.s_vec.path}, {L.t_vec.path});
    } else {
      fail("kd_zoo: loss '", n, "' has no objective");
    }
  }
  attach_costs(o, setup);
  return o;
}

std::string loss_help() {
  std::string s = "  loss    weight   ce weight  reference\n";
  for (const auto& l : loss_table()) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-7s %7g %10g  %s\n", l.name, l.weight, l.ce_weight, l.reference);
    s += buf;
  }
  return s;
}

}  // namespace retort::examples::zoo
