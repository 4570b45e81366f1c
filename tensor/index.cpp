// Joins and indexing (tensor/index.h). Joins copy each input into a strided window of the output
// through Tensor::copy_, so any input layout (and device) works. Indexing kernels walk a shape
// with cpu::for_each_offset and give the operand being indexed a zero stride on `dim`: the
// index value times the real stride is added instead. The index tensor itself gets strides that
// are zero except on `dim` (index_select/index_add) so its running offset is the k-th index.
// CUDA tensors go to tensor/cuda/index.cu after the shape checks; input, index and source must
// share a device.
#include "tensor/index.h"

#include "retort_config.h"
#include "tensor/cpu/iter.h"
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort::ops {

namespace {

using cpu::along_dim_strides;
using cpu::zero_dim_stride;

void check_index_tensor(const Tensor& idx, const char* op) {
  RETORT_CHECK(idx.defined(), op, ": index tensor is undefined");
  RETORT_CHECK(idx.dtype() == kInt64, op, ": index must be int64, got ", dtype_name(idx.dtype()),
               " ", shape_str(idx.sizes()));
}

// The index value at offset o, checked against the size of dim.
void check_same_device(const char* op, const Tensor& x, const Tensor& other, const char* what) {
  RETORT_CHECK(x.device() == other.device(), op, ": input ", shape_str(x.sizes()), " is on ",
               x.device().str(), " but the ", what, " ", shape_str(other.sizes()), " is on ",
               other.device().str());
}

inline std::int64_t checked(std::int64_t v, std::int64_t size, int dim, const char* op,
                            const Tensor& x, const Tensor& idx) {
  if (v < 0 || v >= size)
    fail(op, ": index ", v, " out of range for dim ", dim, " of size ", size, " (input ",
         shape_str(x.sizes()), ", index ", shape_str(idx.sizes()), ")");
  return v;
}


}  // namespace

Tensor cat(const std::vector<Tensor>& xs, std::int64_t dim) {
  RETORT_CHECK(!xs.empty(), "cat: expected at least one tensor");
  const Tensor& a = xs[0];
  RETORT_CHECK(a.defined() && a.dim() > 0, "cat: tensor 0 must be defined with at least one dim");
  const int d = wrap_dim(dim, a.dim(), "cat");
  Shape out_shape = a.sizes();
  out_shape[d] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Tensor& b = xs[i];
    RETORT_CHECK(b.defined(), "cat: tensor ", i, " is undefined");
    RETORT_CHECK(b.dtype() == a.dtype() && b.device() == a.device(), "cat: tensor 0 ", a.str(),
                 " and tensor ", i, " ", b.str(), " differ in dtype or device");
    bool ok = b.dim() == a.dim();
    for (std::int64_t k = 0; ok && k < a.dim(); ++k) ok = k == d || b.size(k) == a.size(k);
    RETORT_CHECK(ok, "cat: tensor 0 ", shape_str(a.sizes()), " and tensor ", i, " ",
                 shape_str(b.sizes()), " must match in every dim except the cat dim ", d);
    out_shape[d] += b.size(d);
  }
  Tensor out = empty(out_shape, a.dtype(), a.device());
  std::int64_t at = 0;
  for (const Tensor& b : xs) {
    if (b.numel() > 0)
      as_strided(out, b.sizes(), out.strides(), out.offset() + at * out.stride(d)).copy_(b);
    at += b.size(d);
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, std::int64_t dim) {
  RETORT_CHECK(!xs.empty(), "stack: expected at least one tensor");
  const Tensor& a = xs[0];
  RETORT_CHECK(a.defined(), "stack: tensor 0 is undefined");
  const int d = wrap_dim(dim, a.dim() + 1, "stack");
  for (std::size_t i = 1; i < xs.size(); ++i) {
    const Tensor& b = xs[i];
    RETORT_CHECK(b.defined(), "stack: tensor ", i, " is undefined");
    RETORT_CHECK(b.sizes() == a.sizes(), "stack: tensor 0 ", shape_str(a.sizes()), " and tensor ",
                 i, " ", shape_str(b.sizes()), " must have the same shape");
    RETORT_CHECK(b.dtype() == a.dtype() && b.device() == a.device(), "stack: tensor 0 ", a.str(),
                 " and tensor ", i, " ", b.str(), " differ in dtype or device");
  }
  Shape out_shape = a.sizes();
  out_shape.insert(out_shape.begin() + d, static_cast<std::int64_t>(xs.size()));
  Tensor out = empty(out_shape, a.dtype(), a.device());
  Shape st = out.strides();
  st.erase(st.begin() + d);
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (a.numel() > 0)
      as_strided(out, a.sizes(), st, out.offset() + static_cast<std::int64_t>(i) * out.stride(d))
          .copy_(xs[i]);
  return out;
}

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& idx) {
  check_index_tensor(idx, "index_select");
  RETORT_CHECK(x.dim() > 0 && idx.dim() <= 1, "index_select: input ", shape_str(x.sizes()),
               " and index ", shape_str(idx.sizes()), ": expected an input with dims and a 1-d index");
  const int d = wrap_dim(dim, x.dim(), "index_select");
  Shape out_shape = x.sizes();
  out_shape[d] = idx.numel();
  check_same_device("index_select", x, idx, "index");
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::index_select(x, d, idx);
#endif
  Tensor out = empty(out_shape, x.dtype());
  const Shape xs = zero_dim_stride(x.strides(), d), is = along_dim_strides(idx, x.dim(), d);
  const std::int64_t* ip = idx.data<std::int64_t>();
  const std::int64_t size = x.size(d), step = x.stride(d);
  RETORT_DISPATCH_ALL(x.dtype(), "index_select", [&]<class T>() {
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    cpu::for_each_offset<3>(out_shape, {&out.strides(), &xs, &is}, [&](const auto& o) {
      op[o[0]] = xp[o[1] + checked(ip[o[2]], size, d, "index_select", x, idx) * step];
    });
  });
  return out;
}

void index_add_(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src) {
  check_index_tensor(idx, "index_add");
  RETORT_CHECK(x.dim() > 0 && idx.dim() <= 1 && src.dtype() == x.dtype(), "index_add: input ",
               x.str(), ", index ", shape_str(idx.sizes()), " and source ", src.str(),
               ": expected an input with dims, a 1-d index and a source of the input's dtype");
  const int d = wrap_dim(dim, x.dim(), "index_add");
  Shape want = x.sizes();
  want[d] = idx.numel();
  RETORT_CHECK(src.sizes() == want, "index_add: input ", shape_str(x.sizes()), " and source ",
               shape_str(src.sizes()), ": source must be ", shape_str(want));
  check_same_device("index_add", x, idx, "index");
  check_same_device("index_add", x, src, "source");
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::index_add_(x, d, idx, src);
#endif
  const Shape xs = zero_dim_stride(x.strides(), d), is = along_dim_strides(idx, x.dim(), d);
  const std::int64_t* ip = idx.data<std::int64_t>();
  const std::int64_t size = x.size(d), step = x.stride(d);
  RETORT_DISPATCH_ALL(x.dtype(), "index_add", [&]<class T>() {
    T* xp = x.data<T>();
    const T* sp = src.data<T>();
    cpu::for_each_offset<3>(want, {&src.strides(), &xs, &is}, [&](const auto& o) {
      xp[o[1] + checked(ip[o[2]], size, d, "index_add", x, idx) * step] += sp[o[0]];
    });
  });
}

Tensor index_add(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src) {
  Tensor out = x.clone();
  index_add_(out, dim, idx, src);
  return out;
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& idx) {
  check_index_tensor(idx, "gather");
  bool ok = idx.dim() == x.dim() && x.dim() > 0;
  const int d = wrap_dim(dim, x.dim(), "gather");
  for (std::int64_t k = 0; ok && k < x.dim(); ++k) ok = k == d || idx.size(k) <= x.size(k);
  RETORT_CHECK(ok, "gather: input ", shape_str(x.sizes()), " and index ", shape_str(idx.sizes()),
               ": index must have the input's rank and be no larger outside dim ", d);
  check_same_device("gather", x, idx, "index");
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::gather(x, d, idx);
#endif
  Tensor out = empty(idx.sizes(), x.dtype());
  const Shape xs = zero_dim_stride(x.strides(), d);
  const std::int64_t* ip = idx.data<std::int64_t>();
  const std::int64_t size = x.size(d), step = x.stride(d);
  RETORT_DISPATCH_ALL(x.dtype(), "gather", [&]<class T>() {
    const T* xp = x.data<T>();
    T* op = out.data<T>();
    cpu::for_each_offset<3>(idx.sizes(), {&out.strides(), &xs, &idx.strides()}, [&](const auto& o) {
      op[o[0]] = xp[o[1] + checked(ip[o[2]], size, d, "gather", x, idx) * step];
    });
  });
  return out;
}

void scatter_add_(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src) {
  check_index_tensor(idx, "scatter_add");
  bool ok = idx.dim() == x.dim() && src.dim() == x.dim() && x.dim() > 0 && src.dtype() == x.dtype();
  const int d = wrap_dim(dim, x.dim(), "scatter_add");
  for (std::int64_t k = 0; ok && k < x.dim(); ++k)
    ok = idx.size(k) <= src.size(k) && (k == d || idx.size(k) <= x.size(k));
  RETORT_CHECK(ok, "scatter_add: input ", x.str(), ", index ", shape_str(idx.sizes()),
               " and source ", src.str(), ": index must have the input's rank, fit in the "
               "source, and fit in the input outside dim ", d);
  check_same_device("scatter_add", x, idx, "index");
  check_same_device("scatter_add", x, src, "source");
#if RETORT_WITH_CUDA
  if (x.device().is_cuda()) return cuda::scatter_add_(x, d, idx, src);
#endif
  const Shape xs = zero_dim_stride(x.strides(), d);
  const std::int64_t* ip = idx.data<std::int64_t>();
  const std::int64_t size = x.size(d), step = x.stride(d);
  RETORT_DISPATCH_ALL(x.dtype(), "scatter_add", [&]<class T>() {
    T* xp = x.data<T>();
    const T* sp = src.data<T>();
    cpu::for_each_offset<3>(idx.sizes(), {&xs, &idx.strides(), &src.strides()}, [&](const auto& o) {
      xp[o[0] + checked(ip[o[1]], size, d, "scatter_add", x, idx) * step] += sp[o[2]];
    });
  });
}

Tensor scatter_add(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src) {
  Tensor out = x.clone();
  scatter_add_(out, dim, idx, src);
  return out;
}

Tensor one_hot(const Tensor& labels, std::int64_t num_classes, DType dtype) {
  check_index_tensor(labels, "one_hot");
  RETORT_CHECK(num_classes > 0, "one_hot: num_classes must be > 0, got ", num_classes);
#if RETORT_WITH_CUDA
  if (labels.device().is_cuda()) return cuda::one_hot(labels, num_classes, dtype);
#endif
  Shape out_shape = labels.sizes();
  out_shape.push_back(num_classes);
  Tensor out = zeros(out_shape, dtype);
  const std::vector<std::int64_t> v = labels.to_vector<std::int64_t>();
  RETORT_DISPATCH_ALL(dtype, "one_hot", [&]<class T>() {
    T* op = out.data<T>();
    for (std::size_t i = 0; i < v.size(); ++i) {
      RETORT_CHECK(v[i] >= 0 && v[i] < num_classes, "one_hot: label ", v[i],
                   " out of range [0, ", num_classes, ") in labels ", shape_str(labels.sizes()));
      op[static_cast<std::int64_t>(i) * num_classes + v[i]] = T(1);
    }
  });
  return out;
}

}  // namespace retort::ops
