// gradcheck. Works on raw float64 buffers so it depends on nothing but the function under test
// and the engine: numeric losses are accumulated in plain loops, never through ops being tested.
#include "autograd/gradcheck.h"

#include <cmath>
#include <random>
#include <sstream>

#include "autograd/grad_mode.h"

namespace retort {

namespace {

double probe_dot(const Tensor& out, const std::vector<double>& v) {
  std::vector<double> o = out.to_vector<double>();
  double s = 0;
  for (std::size_t i = 0; i < o.size(); ++i) s += o[i] * v[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opt) {
  GradcheckResult res;
  std::mt19937_64 rng(opt.seed);
  std::normal_distribution<double> nd(0.0, 1.0);

  // Work on private leaf copies so the caller's tensors and grads are untouched.
  std::vector<Tensor> xs;
  for (const auto& in : inputs) {
    if (!in.defined()) {
      xs.push_back(in);
      continue;
    }
    RETORT_CHECK(!in.requires_grad() || in.dtype() == kFloat64, "gradcheck: inputs that require grad must be float64, got ",
                 dtype_name(in.dtype()), " ", shape_str(in.sizes()));
    Tensor c = in.clone();
    c.set_requires_grad(in.requires_grad());
    xs.push_back(c);
  }

  Tensor out = f(xs);
  RETORT_CHECK(out.dtype() == kFloat64, "gradcheck: output must be float64, got ", dtype_name(out.dtype()));
  std::vector<double> v(static_cast<std::size_t>(out.numel()));
  for (auto& e : v) e = nd(rng);
  if (!out.requires_grad()) {
    res.ok = false;
    res.message = "gradcheck: output does not require grad (no recorded graph)";
    return res;
  }
  out.backward(from_vector(v, out.sizes(), kFloat64));

  auto loss_at = [&]() {
    NoGradGuard ng;
    return probe_dot(f(xs), v);
  };
  auto check = [&](std::size_t k, const std::string& where, double analytic, double numeric) {
    double err = std::abs(analytic - numeric);
    res.max_abs_error = std::max(res.max_abs_error, err);
    if (err > opt.atol + opt.rtol * std::abs(numeric) && res.ok) {
      res.ok = false;
      std::ostringstream os;
      os << "gradcheck: input " << k << " " << shape_str(xs[k].sizes()) << " " << where
         << ": analytic " << analytic << " vs numeric " << numeric;
      res.message = os.str();
    }
  };

  for (std::size_t k = 0; k < xs.size(); ++k) {
    const Tensor& x = xs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor g = x.grad();
    std::vector<double> ga = g.defined() ? g.to_vector<double>()
                                         : std::vector<double>(static_cast<std::size_t>(x.numel()), 0.0);
    double* p = x.data<double>();  // x is a packed clone
    const std::int64_t n = x.numel();
    if (n <= opt.max_elements) {
      for (std::int64_t i = 0; i < n; ++i) {
        double keep = p[i];
        p[i] = keep + opt.eps;
        double lp = loss_at();
        p[i] = keep - opt.eps;
        double lm = loss_at();
        p[i] = keep;
        check(k, "element " + std::to_string(i), ga[static_cast<std::size_t>(i)],
              (lp - lm) / (2 * opt.eps));
      }
    } else {
      for (int d = 0; d < opt.directions; ++d) {
        std::vector<double> u(static_cast<std::size_t>(n));
        double nrm = 0;
        for (auto& e : u) {
          e = nd(rng);
          nrm += e * e;
        }
        nrm = std::sqrt(nrm);
        double analytic = 0;
        for (std::int64_t i = 0; i < n; ++i) {
          u[i] /= nrm;
          analytic += ga[i] * u[i];
        }
        std::vector<double> keep(p, p + n);
        for (std::int64_t i = 0; i < n; ++i) p[i] = keep[i] + opt.eps * u[i];
        double lp = loss_at();
        for (std::int64_t i = 0; i < n; ++i) p[i] = keep[i] - opt.eps * u[i];
        double lm = loss_at();
        for (std::int64_t i = 0; i < n; ++i) p[i] = keep[i];
        check(k, "direction " + std::to_string(d), analytic, (lp - lm) / (2 * opt.eps));
      }
    }
  }
  return res;
}

}  // namespace retort
