// Indexing kernels (ops.h), laid out like the cpu reference (tensor/index.cpp): the walk is over
// the output's (or the source's, or the index's) shape with the strided loop of strided.cuh; the
// indexed operand gets stride 0 on `dim` and the index value times its real stride is added; a
// 1-d index gets strides that are zero except on `dim`. Accumulating ops use atomicAdd, so
// repeated indices add up (in an unspecified order: float sums may differ from the cpu's in the
// last bits).
//
// Bounds: a thread that meets an index outside [0, size) skips the element and records the value
// in a device-side error slot (the first recorder wins); after the kernel the host reads the slot
// (one small synchronous copy) and raises the cpu's error naming the op, the index and the extent.
#include "tensor/cpu/iter.h"
#include "tensor/cuda/common.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/cuda/ops.h"
#include "tensor/cuda/strided.cuh"

namespace retort::cuda {

namespace {

using cpu::along_dim_strides;
using cpu::zero_dim_stride;

struct IndexError {
  unsigned long long flag;
  long long value;
};

__device__ inline bool in_range(std::int64_t v, std::int64_t size, IndexError* err) {
  if (v >= 0 && v < size) return true;
  if (atomicCAS(&err->flag, 0ULL, 1ULL) == 0ULL) err->value = v;
  return false;
}

__device__ inline void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ inline void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ inline void atomic_add(std::int64_t* p, std::int64_t v) {
  // Two's-complement addition is the same on unsigned bits.
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

// The device error slot of one kernel, cleared on creation.
class ErrorSlot {
 public:
  explicit ErrorSlot(const Tensor& on, const char* op) : ws_(sizeof(IndexError), on.device().index) {
    RETORT_CUDA(cudaMemsetAsync(ws_.get(), 0, sizeof(IndexError), stream()), op);
  }
  IndexError* get() const { return static_cast<IndexError*>(ws_.get()); }
  // Waits for the kernel; true (with the offending value) when an index was out of range.
  bool failed(long long* value, int device) const {
    IndexError h{};
    copy_to_host(&h, ws_.get(), sizeof(IndexError), device);
    *value = h.value;
    return h.flag != 0;
  }

 private:
  Workspace ws_;
};

// The cpu's message for an index outside dim d of x.
void report(const ErrorSlot& slot, const char* op, int d, std::int64_t size, const Tensor& x,
            const Tensor& idx) {
  long long v = 0;
  if (slot.failed(&v, x.device().index))
    fail(op, ": index ", v, " out of range for dim ", d, " of size ", size, " (input ", shape_str(x.sizes()),
         ", index ", shape_str(idx.sizes()), ")");
}


// out[o0] = x[o1 + idx[o2]·step]
template <class T> struct GatherF {
  T* out;
  const T* x;
  const std::int64_t* idx;
  std::int64_t size, step;
  IndexError* err;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[3]) const {
    const std::int64_t v = idx[o[2]];
    if (in_range(v, size, err)) out[o[0]] = x[o[1] + v * step];
  }
};

// x[o0 + idx[o1]·step] += src[o2]
template <class T> struct ScatterAddF {
  T* x;
  const std::int64_t* idx;
  const T* src;
  std::int64_t size, step;
  IndexError* err;
  __device__ void operator()(std::int64_t, const std::int64_t (&o)[3]) const {
    const std::int64_t v = idx[o[1]];
    if (in_range(v, size, err)) atomic_add(x + o[0] + v * step, src[o[2]]);
  }
};

template <class T> struct OneHotF {
  T* out;
  const std::int64_t* labels;
  std::int64_t classes;
  IndexError* err;
  __device__ void operator()(std::int64_t i, const std::int64_t (&o)[1]) const {
    const std::int64_t v = labels[o[0]];
    if (in_range(v, classes, err)) out[i * classes + v] = T(1);
  }
};

void check_operands(const Tensor& x, const Tensor& idx, const char* op, const Tensor& src = Tensor()) {
  check_cuda_tensor(x, op, "input");
  check_cuda_tensor(idx, op, "index");
  RETORT_CHECK(x.device() == idx.device(), op, ": input ", x.str(), " and index ", idx.str(),
               " are on different devices");
  if (!src.defined()) return;
  check_cuda_tensor(src, op, "source");
  RETORT_CHECK(x.device() == src.device(), op, ": input ", x.str(), " and source ", src.str(),
               " are on different devices");
}

}  // namespace

Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& idx) {
  check_operands(x, idx, "index_select");
  DeviceGuard guard(x);
  const int d = wrap_dim(dim, x.dim(), "index_select");
  Shape out_shape = x.sizes();
  out_shape[d] = idx.numel();
  Tensor out = empty(out_shape, x.dtype(), x.device());
  if (out.numel() == 0) return out;
  ErrorSlot slot(x, "index_select");
  const std::int64_t size = x.size(d), step = x.stride(d);
  dispatch_all(x.dtype(), "index_select", [&]<class T>() {
    for_each<3>(out_shape, {out.strides(), zero_dim_stride(x.strides(), d), along_dim_strides(idx, x.dim(), d)},
                GatherF<T>{ptr<T>(out), ptr<T>(x), ptr<std::int64_t>(idx), size, step, slot.get()},
                "index_select");
  });
  report(slot, "index_select", d, size, x, idx);
  return out;
}

void index_add_(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src) {
  check_operands(x, idx, "index_add", src);
  DeviceGuard guard(x);
  const int d = wrap_dim(dim, x.dim(), "index_add");
  if (src.numel() == 0) return;
  ErrorSlot slot(x, "index_add");
  const std::int64_t size = x.size(d), step = x.stride(d);
  dispatch_all(x.dtype(), "index_add", [&]<class T>() {
    for_each<3>(src.sizes(), {zero_dim_stride(x.strides(), d), along_dim_strides(idx, x.dim(), d), src.strides()},
                ScatterAddF<T>{ptr<T>(x), ptr<std::int64_t>(idx), ptr<T>(src), size, step, slot.get()},
                "index_add");
  });
  report(slot, "index_add", d, size, x, idx);
}

Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& idx) {
  check_operands(x, idx, "gather");
  DeviceGuard guard(x);
  const int d = wrap_dim(dim, x.dim(), "gather");
  Tensor out = empty(idx.sizes(), x.dtype(), x.device());
  if (out.numel() == 0) return out;
  ErrorSlot slot(x, "gather");
  const std::int64_t size = x.size(d), step = x.stride(d);
  dispatch_all(x.dtype(), "gather", [&]<class T>() {
    for_each<3>(idx.sizes(), {out.strides(), zero_dim_stride(x.strides(), d), idx.strides()},
                GatherF<T>{ptr<T>(out), ptr<T>(x), ptr<std::int64_t>(idx), size, step, slot.get()}, "gather");
  });
  report(slot, "gather", d, size, x, idx);
  return out;
}

void scatter_add_(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src) {
  check_operands(x, idx, "scatter_add", src);
  DeviceGuard guard(x);
  const int d = wrap_dim(dim, x.dim(), "scatter_add");
  if (idx.numel() == 0) return;
  ErrorSlot slot(x, "scatter_add");
  const std::int64_t size = x.size(d), step = x.stride(d);
  // src may be larger than idx: its strides are walked over idx's shape, as on the cpu.
  dispatch_all(x.dtype(), "scatter_add", [&]<class T>() {
    for_each<3>(idx.sizes(), {zero_dim_stride(x.strides(), d), idx.strides(), src.strides()},
                ScatterAddF<T>{ptr<T>(x), ptr<std::int64_t>(idx), ptr<T>(src), size, step, slot.get()},
                "scatter_add");
  });
  report(slot, "scatter_add", d, size, x, idx);
}

Tensor one_hot(const Tensor& labels, std::int64_t num_classes, DType dtype) {
  check_cuda_tensor(labels, "one_hot", "labels");
  DeviceGuard guard(labels);
  Shape out_shape = labels.sizes();
  out_shape.push_back(num_classes);
  Tensor out = empty(out_shape, dtype, labels.device());
  fill_(out, 0.0);
  if (labels.numel() == 0) return out;
  ErrorSlot slot(labels, "one_hot");
  dispatch_all(dtype, "one_hot", [&]<class T>() {
    for_each<1>(labels.sizes(), {labels.strides()},
                OneHotF<T>{ptr<T>(out), ptr<std::int64_t>(labels), num_classes, slot.get()}, "one_hot");
  });
  long long v = 0;
  if (slot.failed(&v, labels.device().index))
    fail("one_hot: label ", v, " out of range [0, ", num_classes, ") in labels ", shape_str(labels.sizes()));
  return out;
}

}  // namespace retort::cuda
