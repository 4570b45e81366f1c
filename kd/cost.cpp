// Cost per loss. The analytic counts follow the op sequence of each loss in kd/ (see kd/cost.h);
// the measured side runs each term in isolation on leaf copies of the student's outputs, so the
// time and memory are the term's own and not the student network's backward.
#include "kd/cost.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "autograd/grad_mode.h"
#include "autograd/ops/elementwise.h"
#include "kd/distiller.h"
#include "tensor/cpu/allocator.h"
#include "tensor/error.h"

namespace retort::kd {

namespace cost {

namespace {
double d(std::int64_t v) { return static_cast<double>(v); }
}  // namespace

Estimate& Estimate::operator+=(const Estimate& o) {
  flops += o.flops;
  bytes += o.bytes;
  state_bytes += o.state_bytes;
  if (dominant.empty()) {
    dominant = o.dominant;
  } else if (!o.dominant.empty()) {
    dominant += "; " + o.dominant;
  }
  return *this;
}

Estimate kd(std::int64_t B, std::int64_t K, std::size_t elem) {
  return {20 * d(B) * d(K), 10 * d(B) * d(K) * d(elem), 0, "B×K probabilities"};
}

Estimate sp(std::int64_t B, std::int64_t Ds, std::int64_t Dt, std::size_t elem) {
  const double b2 = d(B) * d(B);
  return {2 * b2 * d(Ds + Dt) + 11 * b2, 8 * b2 * d(elem), 0, "B×B Gram matrices"};
}

Estimate rkd_distance(std::int64_t B, std::int64_t Ds, std::int64_t Dt, std::size_t elem) {
  const double b2 = d(B) * d(B);
  return {2 * b2 * d(Ds + Dt) + 23 * b2, 20 * b2 * d(elem), 0, "B×B distance matrices"};
}

Estimate rkd_angle(std::int64_t B, std::int64_t Ds, std::int64_t Dt, std::size_t elem) {
  const double b2 = d(B) * d(B), b3 = b2 * d(B);
  return {2 * b3 * d(Ds + Dt) + 4 * b2 * d(Ds + Dt) + 7 * b3,
          (3 * b2 * d(Ds + Dt) + 6 * b3) * d(elem), 0, "B×B×B angle tensors"};
}

Estimate rkd(std::int64_t B, std::int64_t Ds, std::int64_t Dt, std::size_t elem) {
  Estimate e = rkd_angle(B, Ds, Dt, elem);
  e += rkd_distance(B, Ds, Dt, elem);
  return e;
}

Estimate pkt(std::int64_t B, std::int64_t Ds, std::int64_t Dt, std::size_t elem) {
  const double b2 = d(B) * d(B);
  return {2 * b2 * d(Ds + Dt) + 14 * b2, 13 * b2 * d(elem), 0, "B×B similarity matrices"};
}

Estimate cc(std::int64_t B, std::int64_t Ds, std::int64_t Dt, std::int64_t order,
            std::size_t elem) {
  const double b2 = d(B) * d(B), p = d(order);
  return {2 * b2 * d(Ds + Dt) + (6 * p + 7) * b2, (6 * p + 8) * b2 * d(elem), 0,
          "B×B correlation matrices"};
}

Estimate crd(std::int64_t B, std::int64_t S, std::int64_t T, std::int64_t F, std::int64_t K,
             std::int64_t n, std::size_t elem) {
  const double bk = d(B) * d(K + 1);
  return {2 * d(B) * d(F) * d(S + T) + 4 * bk * d(F) + 20 * bk, (2 * bk * d(F) + 10 * bk) * d(elem),
          2 * d(n) * d(F) * d(elem), "gathered memory rows 2×B×(K+1)×F"};
}

}  // namespace cost

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A fresh leaf sharing x's data: the term's backward stops here.
Tensor leaf(const Tensor& x) { return detach(x).set_requires_grad(true); }

}  // namespace

std::vector<TermCost> Distiller::term_costs(const Tensor& x, const Tensor& y,
                                            const std::vector<std::int64_t>& indices, int repeats) {
  RETORT_CHECK(repeats >= 1, "Distiller::term_costs: repeats must be >= 1, got ", repeats);
  bool from_cache = false;
  Context base;
  {
    // No graph through the student: the measured backward is the term's alone.
    NoGradGuard no_grad;
    base = forward_context(x, y, indices, from_cache);
  }
  std::vector<TermCost> rows;
  for (const auto& term : terms_) {
    TermCost row;
    row.name = term.name;
    row.weight = term.weight * (term.schedule ? term.schedule(step_) : 1.0);
    for (int r = 0; r < repeats; ++r) {
      Context c = base;
      c.student_logits = leaf(base.student_logits);
      for (auto& [path, f] : c.student_features) f = leaf(base.student_features.at(path));
      cpu::reset_peak_allocated_bytes();
      const std::size_t live = cpu::allocated_bytes();
      auto t0 = Clock::now();
      Tensor l = term.fn(c);
      const double fwd = ms_since(t0);
      RETORT_CHECK(l.defined() && l.numel() == 1, "Distiller::term_costs: term '", term.name,
                   "' must return a scalar");
      row.value = l.item<double>();
      t0 = Clock::now();
      if (l.requires_grad()) l.backward();
      const double bwd = ms_since(t0);
      const std::size_t peak = cpu::peak_allocated_bytes();
      row.peak_bytes = std::max(row.peak_bytes, peak > live ? peak - live : 0);
      row.forward_ms = r == 0 ? fwd : std::min(row.forward_ms, fwd);
      row.backward_ms = r == 0 ? bwd : std::min(row.backward_ms, bwd);
      if (r == 0 && term.cost) {
        row.has_estimate = true;
        row.estimate = term.cost(c);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void print_term_costs(std::ostream& os, const std::vector<TermCost>& rows) {
  constexpr double kMiB = 1024.0 * 1024.0;
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %8s %12s %10s %10s %10s %9s %9s %10s\n", "term", "lambda",
                "value", "MFLOP", "MiB", "state MiB", "fwd ms", "bwd ms", "peak MiB");
  os << line;
  double flops = 0, fwd = 0, bwd = 0;
  for (const auto& r : rows) {
    char f[16] = "-", b[16] = "-", s[16] = "-";
    if (r.has_estimate) {
      std::snprintf(f, sizeof f, "%.3f", r.estimate.flops / 1e6);
      std::snprintf(b, sizeof b, "%.3f", r.estimate.bytes / kMiB);
      std::snprintf(s, sizeof s, "%.3f", r.estimate.state_bytes / kMiB);
      flops += r.estimate.flops;
    }
    std::snprintf(line, sizeof line, "%-16s %8.4g %12.6g %10s %10s %10s %9.3f %9.3f %10.3f\n",
                  r.name.c_str(), r.weight, r.value, f, b, s, r.forward_ms, r.backward_ms,
                  static_cast<double>(r.peak_bytes) / kMiB);
    os << line;
    fwd += r.forward_ms;
    bwd += r.backward_ms;
  }
  std::snprintf(line, sizeof line, "%-16s %8s %12s %10.3f %10s %10s %9.3f %9.3f %10s\n", "total",
                "", "", flops / 1e6, "", "", fwd, bwd, "");
  os << line;
}

}  // namespace retort::kd
