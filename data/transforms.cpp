// Batch image transforms (see transforms.h). Plain loops over packed [B, C, H, W] data: a CIFAR
// batch is a few hundred thousand values, and these run on the loader's worker thread while the
// model trains, so clarity beats vectorisation here. The random variants only draw parameters and
// then call the deterministic ones, which is what makes them checkable value by value.
#include "data/transforms.h"

#include <algorithm>
#include <cstring>

#include "tensor/error.h"

namespace retort::data {

namespace {

void check_images(const char* op, const Tensor& x) {
  RETORT_CHECK(x.defined(), op, ": input is undefined");
  RETORT_CHECK(x.dim() == 4, op, ": expected a batch [B, C, H, W], got ", shape_str(x.sizes()));
  RETORT_CHECK(x.device().is_cpu(), op, ": expected a cpu tensor, got ", x.str());
}

}  // namespace

Tensor normalize(const Tensor& x, const std::vector<double>& mean, const std::vector<double>& std) {
  check_images("normalize", x);
  const std::int64_t B = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  RETORT_CHECK(static_cast<std::int64_t>(mean.size()) == C && static_cast<std::int64_t>(std.size()) == C,
               "normalize: input ", shape_str(x.sizes()), " has ", C, " channels but mean has ", mean.size(),
               " values and std ", std.size());
  for (std::size_t c = 0; c < std.size(); ++c)
    RETORT_CHECK(std[c] > 0, "normalize: std[", c, "] must be > 0, got ", std[c]);
  const Tensor in = x.contiguous();
  Tensor out = empty(x.sizes(), x.dtype());
  RETORT_DISPATCH_FLOATING(x.dtype(), "normalize", [&]<class T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t c = 0; c < C; ++c) {
        // Multiplying by 1/std in T would round differently from torchvision's division.
        const T m = static_cast<T>(mean[static_cast<std::size_t>(c)]);
        const T s = static_cast<T>(std[static_cast<std::size_t>(c)]);
        const std::int64_t base = (b * C + c) * HW;
        for (std::int64_t k = 0; k < HW; ++k) dst[base + k] = (src[base + k] - m) / s;
      }
  });
  return out;
}

Tensor crop(const Tensor& x, const std::vector<std::int64_t>& tops, const std::vector<std::int64_t>& lefts,
            std::int64_t size, std::int64_t padding) {
  check_images("crop", x);
  const std::int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  RETORT_CHECK(padding >= 0 && size >= 1 && size <= H + 2 * padding && size <= W + 2 * padding, "crop: input ",
               shape_str(x.sizes()), " padded by ", padding, " cannot give a ", size, "x", size, " window");
  RETORT_CHECK(static_cast<std::int64_t>(tops.size()) == B && static_cast<std::int64_t>(lefts.size()) == B,
               "crop: input ", shape_str(x.sizes()), " needs ", B, " offsets, got ", tops.size(), " tops and ",
               lefts.size(), " lefts");
  for (std::int64_t b = 0; b < B; ++b) {
    const auto t = tops[static_cast<std::size_t>(b)], l = lefts[static_cast<std::size_t>(b)];
    RETORT_CHECK(t >= 0 && t <= H + 2 * padding - size && l >= 0 && l <= W + 2 * padding - size, "crop: input ",
                 shape_str(x.sizes()), " padded by ", padding, ": window ", size, "x", size, " at (", t, ", ", l,
                 ") of sample ", b, " does not fit");
  }
  const Tensor in = x.contiguous();
  Tensor out = zeros({B, C, size, size}, x.dtype());
  const std::size_t elem = dtype_size(x.dtype());
  const auto* src = static_cast<const char*>(in.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  for (std::int64_t b = 0; b < B; ++b) {
    // Window row i reads source row r = top + i − padding; columns likewise. Only the part of the
    // window inside the image is copied; the rest keeps the zeros of `out` (the padding).
    const std::int64_t r0 = tops[static_cast<std::size_t>(b)] - padding;
    const std::int64_t c0 = lefts[static_cast<std::size_t>(b)] - padding;
    const std::int64_t j_lo = std::max<std::int64_t>(0, -c0), j_hi = std::min<std::int64_t>(size, W - c0);
    if (j_lo >= j_hi) continue;
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < size; ++i) {
        const std::int64_t r = r0 + i;
        if (r < 0 || r >= H) continue;
        std::memcpy(dst + static_cast<std::size_t>(((b * C + c) * size + i) * size + j_lo) * elem,
                    src + static_cast<std::size_t>(((b * C + c) * H + r) * W + c0 + j_lo) * elem,
                    static_cast<std::size_t>(j_hi - j_lo) * elem);
      }
  }
  return out;
}

Tensor random_crop(const Tensor& x, std::int64_t size, std::int64_t padding, Generator& gen) {
  check_images("random_crop", x);
  const std::int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  RETORT_CHECK(padding >= 0 && size >= 1 && size <= H + 2 * padding && size <= W + 2 * padding,
               "random_crop: input ", shape_str(x.sizes()), " padded by ", padding, " cannot give a ", size, "x",
               size, " window");
  const auto tops = randint(0, H + 2 * padding - size + 1, {B}, &gen).to_vector<std::int64_t>();
  const auto lefts = randint(0, W + 2 * padding - size + 1, {B}, &gen).to_vector<std::int64_t>();
  return crop(x, tops, lefts, size, padding);
}

Tensor hflip(const Tensor& x, const std::vector<bool>& flip) {
  check_images("hflip", x);
  const std::int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  RETORT_CHECK(static_cast<std::int64_t>(flip.size()) == B, "hflip: input ", shape_str(x.sizes()), " needs ", B,
               " flags, got ", flip.size());
  Tensor out = x.clone();
  RETORT_DISPATCH_ALL(x.dtype(), "hflip", [&]<class T>() {
    T* p = out.data<T>();
    for (std::int64_t b = 0; b < B; ++b) {
      if (!flip[static_cast<std::size_t>(b)]) continue;
      for (std::int64_t row = 0; row < C * H; ++row) {
        T* line = p + (b * C * H + row) * W;
        std::reverse(line, line + W);
      }
    }
  });
  return out;
}

Tensor random_hflip(const Tensor& x, Generator& gen, double p) {
  check_images("random_hflip", x);
  RETORT_CHECK(p >= 0 && p <= 1, "random_hflip: p must be in [0, 1], got ", p);
  std::vector<bool> flip(static_cast<std::size_t>(x.size(0)));
  for (std::size_t b = 0; b < flip.size(); ++b) flip[b] = gen.uniform() < p;
  return hflip(x, flip);
}

BatchTransform compose(std::vector<ImageTransform> steps) {
  for (std::size_t i = 0; i < steps.size(); ++i)
    RETORT_CHECK(static_cast<bool>(steps[i]), "compose: step ", i, " is empty");
  return [steps = std::move(steps)](Batch& batch, Generator& gen) {
    for (const auto& step : steps) batch.inputs = step(batch.inputs, gen);
  };
}

}  // namespace retort::data
