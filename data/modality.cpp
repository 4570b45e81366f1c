// Derived modalities (see modality.h). Plain loops over packed data, like transforms.cpp: these
// run per batch on the loader's worker thread, a few hundred thousand values each. The Sobel
// border replicates rather than zero-pads: zero padding would draw a frame of strong edges
// around every image, the same for all classes, which only adds noise to the student's input.
#include "data/modality.h"

#include <algorithm>
#include <cmath>

#include "data/transforms.h"
#include "tensor/error.h"
#include "tensor/index.h"
#include "tensor/views.h"

namespace retort::data {

namespace {

void check_batch(const char* op, const Tensor& x, std::int64_t channels) {
  RETORT_CHECK(x.defined(), op, ": input is undefined");
  RETORT_CHECK(x.dim() == 4 && (channels < 0 || x.size(1) == channels), op, ": expected a batch [B, ",
               channels < 0 ? std::string("C") : std::to_string(channels), ", H, W], got ", shape_str(x.sizes()));
  RETORT_CHECK(x.device().is_cpu(), op, ": expected a cpu tensor, got ", x.str());
  RETORT_CHECK(is_floating(x.dtype()), op, ": expected a floating tensor, got ", x.str());
}

}  // namespace

std::string modality_name(Modality m) {
  switch (m) {
    case Modality::Gray: return "gray";
    case Modality::Edge: return "edge";
    case Modality::GrayEdge: return "gray+edge";
  }
  return "?";
}

Modality parse_modality(const std::string& name) {
  for (Modality m : {Modality::Gray, Modality::Edge, Modality::GrayEdge})
    if (modality_name(m) == name) return m;
  fail("parse_modality: unknown modality '", name, "' (gray, edge or gray+edge)");
}

std::int64_t modality_channels(Modality m) { return m == Modality::GrayEdge ? 2 : 1; }

Tensor grayscale(const Tensor& x) {
  check_batch("grayscale", x, 3);
  const std::int64_t B = x.size(0), HW = x.size(2) * x.size(3);
  const Tensor in = x.contiguous();
  Tensor out = empty({B, 1, x.size(2), x.size(3)}, x.dtype());
  RETORT_DISPATCH_FLOATING(x.dtype(), "grayscale", [&]<class T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for (std::int64_t b = 0; b < B; ++b) {
      const T* r = src + b * 3 * HW;
      for (std::int64_t k = 0; k < HW; ++k)
        dst[b * HW + k] = static_cast<T>(kLumaR * r[k] + kLumaG * r[HW + k] + kLumaB * r[2 * HW + k]);
    }
  });
  return out;
}

Tensor sobel_magnitude(const Tensor& gray) {
  check_batch("sobel_magnitude", gray, -1);
  const std::int64_t planes = gray.size(0) * gray.size(1), H = gray.size(2), W = gray.size(3);
  const Tensor in = gray.contiguous();
  Tensor out = empty(gray.sizes(), gray.dtype());
  RETORT_DISPATCH_FLOATING(gray.dtype(), "sobel_magnitude", [&]<class T>() {
    for (std::int64_t p = 0; p < planes; ++p) {
      const T* g = in.data<T>() + p * H * W;
      T* o = out.data<T>() + p * H * W;
      auto at = [&](std::int64_t h, std::int64_t w) {
        return static_cast<double>(g[std::clamp<std::int64_t>(h, 0, H - 1) * W + std::clamp<std::int64_t>(w, 0, W - 1)]);
      };
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t w = 0; w < W; ++w) {
          const double gx = (at(h - 1, w + 1) + 2 * at(h, w + 1) + at(h + 1, w + 1)) -
                            (at(h - 1, w - 1) + 2 * at(h, w - 1) + at(h + 1, w - 1));
          const double gy = (at(h + 1, w - 1) + 2 * at(h + 1, w) + at(h + 1, w + 1)) -
                            (at(h - 1, w - 1) + 2 * at(h - 1, w) + at(h - 1, w + 1));
          o[h * W + w] = static_cast<T>(std::sqrt(gx * gx + gy * gy));
        }
    }
  });
  return out;
}

Tensor to_modality(const Tensor& x, Modality m) {
  Tensor g = grayscale(x);
  if (m == Modality::Gray) return g;
  Tensor e = sobel_magnitude(g);
  if (m == Modality::Edge) return e;
  return ops::cat({g, e}, 1);
}

std::pair<std::vector<double>, std::vector<double>> channel_mean_std(const Tensor& x) {
  check_batch("channel_mean_std", x, -1);
  const std::int64_t B = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  RETORT_CHECK(B * HW > 0, "channel_mean_std: empty input ", shape_str(x.sizes()));
  const Tensor in = x.contiguous();
  std::vector<double> sum(static_cast<std::size_t>(C)), sq(static_cast<std::size_t>(C));
  RETORT_DISPATCH_FLOATING(x.dtype(), "channel_mean_std", [&]<class T>() {
    const T* src = in.data<T>();
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t k = 0; k < HW; ++k) {
          const double v = src[(b * C + c) * HW + k];
          sum[static_cast<std::size_t>(c)] += v;
          sq[static_cast<std::size_t>(c)] += v * v;
        }
  });
  std::vector<double> mean(sum.size()), sd(sum.size());
  const double n = static_cast<double>(B * HW);
  for (std::size_t c = 0; c < sum.size(); ++c) {
    mean[c] = sum[c] / n;
    sd[c] = std::sqrt(std::max(0.0, sq[c] / n - mean[c] * mean[c]));
  }
  return {mean, sd};
}

std::pair<std::vector<double>, std::vector<double>> modality_mean_std(const Tensor& x, Modality m,
                                                                      std::int64_t chunk) {
  check_batch("modality_mean_std", x, 3);
  RETORT_CHECK(chunk > 0 && x.size(0) > 0, "modality_mean_std: input ", shape_str(x.sizes()), ", chunk ", chunk);
  const std::size_t C = static_cast<std::size_t>(modality_channels(m));
  std::vector<double> sum(C), sq(C);
  const double per = static_cast<double>(x.size(2) * x.size(3));
  for (std::int64_t s = 0; s < x.size(0); s += chunk) {
    const std::int64_t n = std::min(chunk, x.size(0) - s);
    auto [mean, sd] = channel_mean_std(to_modality(ops::narrow(x, 0, s, n), m));
    for (std::size_t c = 0; c < C; ++c) {  // back to sums, so chunks combine exactly
      sum[c] += mean[c] * per * static_cast<double>(n);
      sq[c] += (sd[c] * sd[c] + mean[c] * mean[c]) * per * static_cast<double>(n);
    }
  }
  std::vector<double> mean(C), sd(C);
  const double total = per * static_cast<double>(x.size(0));
  for (std::size_t c = 0; c < C; ++c) {
    mean[c] = sum[c] / total;
    sd[c] = std::sqrt(std::max(0.0, sq[c] / total - mean[c] * mean[c]));
  }
  return {mean, sd};
}

Tensor paired_modality(const Tensor& x, Modality m, const std::vector<double>& rgb_mean,
                       const std::vector<double>& rgb_std, const std::vector<double>& mod_mean,
                       const std::vector<double>& mod_std) {
  check_batch("paired_modality", x, 3);
  return ops::cat({normalize(x, rgb_mean, rgb_std), normalize(to_modality(x, m), mod_mean, mod_std)}, 1);
}

}  // namespace retort::data
