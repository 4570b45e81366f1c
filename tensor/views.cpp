// Views: new sizes/strides/offset over the same storage. reshape tries a view first and copies
// only when the existing strides cannot express the new shape (the PyTorch rule).
#include "tensor/views.h"

#include <algorithm>
#include <numeric>

namespace retort::ops {

namespace {

Shape infer_sizes(const Tensor& x, Shape sizes, const char* op) {
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      RETORT_CHECK(infer < 0, op, ": only one size may be -1 in ", shape_str(sizes));
      infer = static_cast<int>(i);
    } else {
      RETORT_CHECK(sizes[i] >= 0, op, ": negative size in ", shape_str(sizes));
      known *= sizes[i];
    }
  }
  if (infer >= 0) {
    RETORT_CHECK(known != 0 && x.numel() % known == 0, op, ": cannot view ", shape_str(x.sizes()),
                 " as ", shape_str(sizes));
    sizes[infer] = x.numel() / known;
  }
  RETORT_CHECK(shape_numel(sizes) == x.numel(), op, ": shape ", shape_str(sizes), " is invalid for input ",
               shape_str(x.sizes()), " of ", x.numel(), " elements");
  return sizes;
}

// Strides for viewing x as `sizes` without copying, or empty when impossible. Groups of old dims
// that are contiguous among themselves can be split/merged freely.
bool view_strides(const Tensor& x, const Shape& sizes, Shape& out) {
  if (x.is_contiguous()) {
    out = contiguous_strides(sizes);
    return true;
  }
  const Shape& os = x.sizes();
  const Shape& ot = x.strides();
  out.assign(sizes.size(), 0);
  std::int64_t view_d = static_cast<std::int64_t>(sizes.size()) - 1;
  std::int64_t chunk_base_stride = ot.empty() ? 1 : ot.back();
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ot[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || sizes[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = ot[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

}  // namespace

Tensor view(const Tensor& x, Shape sizes) {
  sizes = infer_sizes(x, std::move(sizes), "view");
  Shape st;
  RETORT_CHECK(view_strides(x, sizes, st), "view: input ", shape_str(x.sizes()), " with strides ",
               shape_str(x.strides()), " cannot be viewed as ", shape_str(sizes),
               " without a copy; use reshape");
  return as_strided(x, sizes, st, x.offset());
}

Tensor reshape(const Tensor& x, Shape sizes) {
  sizes = infer_sizes(x, std::move(sizes), "reshape");
  Shape st;
  if (view_strides(x, sizes, st)) return as_strided(x, sizes, st, x.offset());
  Tensor c = x.clone();
  return as_strided(c, sizes, contiguous_strides(sizes), 0);
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  int s = wrap_dim(start_dim, x.dim(), "flatten");
  int e = wrap_dim(end_dim, x.dim(), "flatten");
  RETORT_CHECK(s <= e, "flatten: start_dim ", start_dim, " is after end_dim ", end_dim);
  Shape sizes(x.sizes().begin(), x.sizes().begin() + s);
  std::int64_t m = 1;
  for (int d = s; d <= e; ++d) m *= x.size(d);
  sizes.push_back(m);
  sizes.insert(sizes.end(), x.sizes().begin() + e + 1, x.sizes().end());
  return reshape(x, sizes);
}

Tensor permute(const Tensor& x, const std::vector<std::int64_t>& order) {
  RETORT_CHECK(static_cast<std::int64_t>(order.size()) == x.dim(), "permute: order of ", order.size(),
               " dims for input ", shape_str(x.sizes()));
  Shape sizes(order.size()), strides(order.size());
  std::vector<bool> seen(order.size(), false);
  for (std::size_t i = 0; i < order.size(); ++i) {
    int d = wrap_dim(order[i], x.dim(), "permute");
    RETORT_CHECK(!seen[d], "permute: dim ", d, " repeated in order for input ", shape_str(x.sizes()));
    seen[d] = true;
    sizes[i] = x.size(d);
    strides[i] = x.stride(d);
  }
  return as_strided(x, sizes, strides, x.offset());
}

Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(x.dim()));
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[wrap_dim(d0, x.dim(), "transpose")], order[wrap_dim(d1, x.dim(), "transpose")]);
  return permute(x, order);
}

Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) {
  int d = wrap_dim(dim, x.dim(), "slice");
  RETORT_CHECK(step > 0, "slice: step must be positive, got ", step);
  std::int64_t n = x.size(d);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<std::int64_t>(start, 0, n);
  end = std::clamp<std::int64_t>(end, start, n);
  Shape sizes = x.sizes(), strides = x.strides();
  sizes[d] = (end - start + step - 1) / step;
  strides[d] *= step;
  return as_strided(x, sizes, strides, x.offset() + start * x.stride(d));
}

Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  int d = wrap_dim(dim, x.dim(), "narrow");
  RETORT_CHECK(start >= 0 && length >= 0 && start + length <= x.size(d), "narrow: range [", start, ", ",
               start + length, ") outside dim ", d, " of ", shape_str(x.sizes()));
  Shape sizes = x.sizes();
  sizes[d] = length;
  return as_strided(x, sizes, x.strides(), x.offset() + start * x.stride(d));
}

Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index) {
  int d = wrap_dim(dim, x.dim(), "select");
  std::int64_t n = x.size(d);
  if (index < 0) index += n;
  RETORT_CHECK(index >= 0 && index < n, "select: index ", index, " out of range for dim ", d, " of ",
               shape_str(x.sizes()));
  Shape sizes = x.sizes(), strides = x.strides();
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  return as_strided(x, sizes, strides, x.offset() + index * x.stride(d));
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  int d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape sizes = x.sizes(), strides = x.strides();
  std::int64_t st = d < x.dim() ? x.stride(d) * x.size(d) : 1;
  sizes.insert(sizes.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  return as_strided(x, sizes, strides, x.offset());
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  int d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.size(d) != 1) return as_strided(x, x.sizes(), x.strides(), x.offset());
  Shape sizes = x.sizes(), strides = x.strides();
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  return as_strided(x, sizes, strides, x.offset());
}

Tensor expand(const Tensor& x, const Shape& sizes) {
  RETORT_CHECK(sizes.size() >= x.sizes().size(), "expand: cannot expand ", shape_str(x.sizes()), " to ",
               shape_str(sizes));
  std::size_t lead = sizes.size() - x.sizes().size();
  Shape st(sizes.size(), 0);
  Shape out = sizes;
  for (std::size_t i = 0; i < x.sizes().size(); ++i) {
    std::int64_t have = x.sizes()[i], want = sizes[lead + i];
    if (want == -1) want = have;
    RETORT_CHECK(have == want || have == 1, "expand: cannot expand ", shape_str(x.sizes()), " to ",
                 shape_str(sizes));
    out[lead + i] = want;
    st[lead + i] = have == want ? x.strides()[i] : 0;
  }
  return as_strided(x, out, st, x.offset());
}

}  // namespace retort::ops
