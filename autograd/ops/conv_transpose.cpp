// conv_transpose2d composed of differentiable ops, so autograd derives its backward and no
// hand-written gradient needs its own tests (the project's composite-first rule). A transposed
// convolution equals an ordinary stride-1 convolution of the input after
//   1. zero insertion: s − 1 zeros between neighbouring pixels ((H − 1)·s + 1 rows),
//   2. padding by d·(K − 1) − p on the top and left, plus output_padding on the bottom and right
//      (negative amounts crop),
//   3. with the weight flipped in both spatial dims and its first two dims swapped per group
//      ([C_in, C_out/g, KH, KW] → [C_out, C_in/g, KH, KW]).
// The symmetric, non-negative part of the padding is left to conv2d's own padding (no copy);
// only the remainder is built with cat/narrow. The zeros cost conv2d up to s² times the work of
// a direct kernel; a fused transposed kernel (conv2d's backward-data) is for when a measured
// workload needs it.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops/index.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"

namespace retort {

namespace {

// Inserts s − 1 zeros between neighbouring entries along dim (2 or 3) of a 4-D x.
Tensor dilate(const Tensor& x, std::int64_t dim, std::int64_t s) {
  if (s == 1) return x;
  Shape zs = x.sizes();
  zs.insert(zs.begin() + dim + 1, s - 1);
  Tensor z = zeros(zs, x.dtype(), x.device());
  Tensor y = cat({unsqueeze(x, dim + 1), z}, dim + 1);  // [.., L, s, ..]
  Shape out = x.sizes();
  const std::int64_t n = out[static_cast<std::size_t>(dim)];
  out[static_cast<std::size_t>(dim)] = n * s;
  return narrow(reshape(y, out), dim, 0, (n - 1) * s + 1);
}

// Pads dim of x with `before` zeros in front and `after` behind; negative amounts crop.
Tensor pad(const Tensor& x, std::int64_t dim, std::int64_t before, std::int64_t after) {
  Tensor y = x;
  auto zeros_of = [&](std::int64_t n) {
    Shape zs = y.sizes();
    zs[static_cast<std::size_t>(dim)] = n;
    return zeros(zs, y.dtype(), y.device());
  };
  if (before < 0) y = narrow(y, dim, -before, y.size(dim) + before);
  if (after < 0) y = narrow(y, dim, 0, y.size(dim) + after);
  if (before > 0 && after > 0) return cat({zeros_of(before), y, zeros_of(after)}, dim);
  if (before > 0) return cat({zeros_of(before), y}, dim);
  if (after > 0) return cat({y, zeros_of(after)}, dim);
  return y;
}

// w reversed along dim (index_select with the reversed index: its gradient is the flip back).
Tensor flip(const Tensor& w, std::int64_t dim) {
  const std::int64_t n = w.size(dim);
  if (n == 1) return w;
  std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) idx[static_cast<std::size_t>(k)] = n - 1 - k;
  return index_select(w, dim, from_vector(idx, {n}).to(w.device()));
}

void check(const Tensor& x, const Tensor& w, const Tensor& b, const ConvTranspose2dOptions& o) {
  // ostringstream rather than string concatenation: g++ 12 gives a false -Wrestrict on the latter.
  std::ostringstream os;
  os << "conv_transpose2d: input " << (x.defined() ? shape_str(x.sizes()) : "undefined")
     << " and weight " << (w.defined() ? shape_str(w.sizes()) : "undefined");
  const std::string prefix = os.str();
  auto shapes = [&] { return prefix; };
  RETORT_CHECK(x.defined() && w.defined() && x.dim() == 4 && w.dim() == 4, shapes(),
               ": expected input [N, C_in, H, W] and weight [C_in, C_out/groups, KH, KW]");
  RETORT_CHECK(o.groups > 0 && x.size(1) == w.size(0) && w.size(0) % o.groups == 0, shapes(),
               ": the input's channels must equal the weight's dim 0 (C_in) and be divisible "
               "by groups=", o.groups);
  const std::int64_t c_out = w.size(1) * o.groups;
  RETORT_CHECK(!b.defined() || (b.dim() == 1 && b.size(0) == c_out), shapes(), ": bias ",
               b.defined() ? shape_str(b.sizes()) : "", " must be [", c_out, "] (C_out)");
  for (int i = 0; i < 2; ++i) {
    RETORT_CHECK(o.stride[i] > 0 && o.dilation[i] > 0 && o.padding[i] >= 0 &&
                     o.output_padding[i] >= 0,
                 shapes(), ": stride and dilation must be positive, padding and output_padding "
                 "non-negative");
    RETORT_CHECK(o.output_padding[i] < o.stride[i] || o.output_padding[i] < o.dilation[i],
                 shapes(), ": output_padding ", o.output_padding[i],
                 " must be smaller than stride ", o.stride[i], " or dilation ", o.dilation[i]);
    const std::int64_t out = (x.size(2 + i) - 1) * o.stride[i] - 2 * o.padding[i] +
                             o.dilation[i] * (w.size(2 + i) - 1) + o.output_padding[i] + 1;
    RETORT_CHECK(out > 0 && x.size(2 + i) > 0, shapes(), ": output ", i == 0 ? "height " : "width ",
                 out, " is not positive");
  }
}

}  // namespace

Tensor conv_transpose2d(const Tensor& x, const Tensor& w, const Tensor& b,
                        const ConvTranspose2dOptions& o) {
  check(x, w, b, o);
  const std::int64_t g = o.groups, c_in = w.size(0), c_out_g = w.size(1);
  Conv2dOptions c;
  c.dilation = o.dilation;
  c.groups = g;
  Tensor xp = x;
  for (int i = 0; i < 2; ++i) {
    const std::int64_t dim = 2 + i;
    const std::int64_t before = o.dilation[i] * (w.size(dim) - 1) - o.padding[i];
    const std::int64_t after = before + o.output_padding[i];
    c.padding[i] = std::max<std::int64_t>(0, before);
    xp = pad(dilate(xp, dim, o.stride[i]), dim, before - c.padding[i], after - c.padding[i]);
  }
  // [C_in, C_out/g, KH, KW] → [g, C_in/g, C_out/g, KH, KW] → [C_out, C_in/g, KH, KW], flipped.
  Tensor wc = reshape(w, {g, c_in / g, c_out_g, w.size(2), w.size(3)});
  wc = reshape(contiguous(transpose(wc, 1, 2)), {g * c_out_g, c_in / g, w.size(2), w.size(3)});
  wc = flip(flip(wc, 2), 3);
  return conv2d(xp, wc, b, c);
}

}  // namespace retort
