// Tensor metadata, factories and data movement. Copies between layouts and dtypes go through
// one strided loop (cpu::for_each_offset) so every view kind is handled in one place; on one GPU
// the same job is the strided kernel of tensor/cuda (cuda::copy_, cuda::fill_), so copies, clones
// and fills of cuda tensors never pass through the host. Fills of dense CPU memory are flat loops
// split across OpenMP threads: zero_grad and the window-gradient buffers fill whole activations,
// and a serial fill leaves the other cores waiting.
#include "tensor/tensor.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "retort_config.h"
#include "tensor/cpu/elementwise.h"
#include "tensor/cpu/iter.h"
#include "tensor/cuda/cuda_backend.h"
#if RETORT_WITH_ONEDNN
#include "tensor/onednn/copy.h"
#endif
#if RETORT_WITH_CUDA
#include "tensor/cuda/ops.h"
#endif

namespace retort {

std::int64_t Tensor::size(std::int64_t d) const { return impl_->sizes[wrap_dim(d, dim(), "size")]; }
std::int64_t Tensor::stride(std::int64_t d) const {
  return impl_->strides[wrap_dim(d, dim(), "stride")];
}

bool Tensor::is_contiguous() const {
  std::int64_t expect = 1;
  for (std::size_t i = impl_->sizes.size(); i-- > 0;) {
    if (impl_->sizes[i] == 1) continue;
    if (impl_->strides[i] != expect) return false;
    expect *= impl_->sizes[i];
  }
  return true;
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor" << shape_str(sizes()) << ' ' << dtype_name(dtype()) << ' ' << device().str();
  return os.str();
}

void Tensor::check_access(DType want) const {
  RETORT_CHECK(defined(), "data: tensor is undefined");
  RETORT_CHECK(dtype() == want, "data: tensor is ", dtype_name(dtype()), ", accessed as ",
               dtype_name(want));
  RETORT_CHECK(device().is_cpu(), "data: tensor is on ", device().str(),
               "; copy it to cpu first with .to(kCPU)");
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl_->storage->data()) + impl_->offset * dtype_size(dtype());
}

Tensor& Tensor::set_requires_grad(bool r) {
  RETORT_CHECK(!r || is_floating(dtype()), "requires_grad: only floating tensors can require grad, got ",
               dtype_name(dtype()));
  impl_->requires_grad = r;
  return *this;
}

template <class T>
T Tensor::item() const {
  RETORT_CHECK(numel() == 1, "item: tensor of shape ", shape_str(sizes()), " has ", numel(),
               " elements, expected 1");
  return to_vector<T>()[0];
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = device().is_cpu() ? *this : to(kCPU);
  std::vector<T> out;
  out.reserve(static_cast<std::size_t>(c.numel()));
  RETORT_DISPATCH_ALL(c.dtype(), "to_vector", [&]<class S>() {
    const S* p = static_cast<const S*>(c.raw_data());
    cpu::for_each_offset<1>(c.sizes(), {&c.strides()},
                            [&](const auto& o) { out.push_back(static_cast<T>(p[o[0]])); });
  });
  return out;
}

template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template std::int64_t Tensor::item<std::int64_t>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;

namespace {
// dst[i] = convert(src[i]) over dst's shape, src broadcast to it; both on the CPU.
void strided_copy(const Tensor& dst, const Tensor& src) {
  Shape sst = cpu::broadcast_strides(src.sizes(), src.strides(), dst.sizes());
  RETORT_DISPATCH_ALL(dst.dtype(), "copy_", [&]<class D>() {
    D* d = static_cast<D*>(dst.raw_data());
    RETORT_DISPATCH_ALL(src.dtype(), "copy_", [&]<class S>() {
      const S* s = static_cast<const S*>(src.raw_data());
      cpu::for_each_offset<2>(dst.sizes(), {&dst.strides(), &sst},
                              [&](const auto& o) { d[o[0]] = static_cast<D>(s[o[1]]); });
    });
  });
}
}  // namespace

void Tensor::copy_(const Tensor& src) {
  Shape b = broadcast_shapes(sizes(), src.sizes(), "copy_");
  RETORT_CHECK(b == sizes(), "copy_: source ", shape_str(src.sizes()), " does not broadcast to ",
               shape_str(sizes()));
  if (device().is_cpu() && src.device().is_cpu()) {
#if RETORT_WITH_ONEDNN
    if (onednn::copy(*this, src)) return;
#endif
    return strided_copy(*this, src);
  }
#if RETORT_WITH_CUDA
  if (device() == src.device()) return cuda::copy_(*this, src);
#endif
  // Across devices: move packed bytes of the same dtype and shape, converting on the host.
  Tensor s = src.device().is_cpu() ? src : src.to(kCPU);
  if (device().is_cpu()) return strided_copy(*this, s);
  Tensor host = empty(sizes(), dtype());
  strided_copy(host, s);
#if RETORT_WITH_CUDA
  if (!is_contiguous()) {  // upload packed, then scatter into the strided view on the device
    Tensor packed = empty(sizes(), dtype(), device());
    packed.copy_(host);
    return cuda::copy_(*this, packed);
  }
#endif
  RETORT_CHECK(is_contiguous(), "copy_: a cuda destination must be contiguous, got strides ",
               shape_str(strides()));
  cuda::copy_to_device(raw_data(), host.raw_data(), numel() * dtype_size(dtype()), device().index);
}

void Tensor::fill_(double value) {
#if RETORT_WITH_CUDA
  if (device().is_cuda()) return cuda::fill_(*this, value);
#endif
  RETORT_CHECK(device().is_cpu(), "fill_: only cpu tensors can be filled in place here");
  dispatch_all(dtype(), "fill_", [&]<class T>() {  // not the macro: the body holds a pragma
    T* p = static_cast<T*>(raw_data());
    T v = static_cast<T>(value);
    if (cpu::is_dense(*this)) {
      const std::int64_t n = numel();
#pragma omp parallel for simd if (n > cpu::kParallelGrain)
      for (std::int64_t i = 0; i < n; ++i) p[i] = v;
      return;
    }
    cpu::for_each_offset<1>(sizes(), {&strides()}, [&](const auto& o) { p[o[0]] = v; });
  });
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = empty(sizes(), dtype(), device());
  out.copy_(*this);  // same device: never through the host
  return out;
}

Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  Tensor out = empty(sizes(), t, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor out = empty(sizes(), dtype(), d);
  if (d.is_cpu()) {
    Tensor packed = contiguous();
    cuda::copy_to_host(out.raw_data(), packed.raw_data(), numel() * dtype_size(dtype()),
                       device().index);
  } else {
    out.copy_(*this);
  }
  return out;
}

Tensor empty(const Shape& sizes, DType dtype, Device device) {
  for (auto s : sizes) RETORT_CHECK(s >= 0, "empty: negative size in ", shape_str(sizes));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(sizes) * dtype_size(dtype), device);
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& sizes, double value, DType dtype, Device device) {
  if (device.is_cpu()) {
    Tensor t = empty(sizes, dtype);
    t.fill_(value);
    return t;
  }
#if RETORT_WITH_CUDA
  Tensor t = empty(sizes, dtype, device);
  t.fill_(value);
  return t;
#else
  return full(sizes, value, dtype, kCPU).to(device);
#endif
}

Tensor zeros(const Shape& sizes, DType dtype, Device device) {
  if (device.is_cpu()) {
    Tensor t = empty(sizes, dtype);
    char* p = static_cast<char*>(t.raw_data());
    const std::int64_t bytes = t.numel() * static_cast<std::int64_t>(dtype_size(dtype));
    constexpr std::int64_t kChunk = std::int64_t(4) * cpu::kParallelGrain;
    const std::int64_t chunks = (bytes + kChunk - 1) / kChunk;
#pragma omp parallel for if (chunks > 1)
    for (std::int64_t c = 0; c < chunks; ++c)
      std::memset(p + c * kChunk, 0, static_cast<std::size_t>(std::min(kChunk, bytes - c * kChunk)));
    return t;
  }
  return full(sizes, 0.0, dtype, device);
}

Tensor ones(const Shape& sizes, DType dtype, Device device) { return full(sizes, 1.0, dtype, device); }
Tensor scalar_tensor(double v, DType dtype, Device device) { return full({}, v, dtype, device); }

Tensor arange(std::int64_t n, DType dtype) {
  Tensor t = empty({n}, dtype);
  RETORT_DISPATCH_ALL(dtype, "arange", [&]<class T>() {
    T* p = t.data<T>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(i);
  });
  return t;
}

Tensor from_vector(const std::vector<double>& values, const Shape& sizes, DType dtype) {
  RETORT_CHECK(static_cast<std::int64_t>(values.size()) == shape_numel(sizes), "from_vector: ",
               values.size(), " values for shape ", shape_str(sizes));
  Tensor t = empty(sizes, dtype);
  RETORT_DISPATCH_ALL(dtype, "from_vector", [&]<class T>() {
    T* p = t.data<T>();
    for (std::size_t i = 0; i < values.size(); ++i) p[i] = static_cast<T>(values[i]);
  });
  return t;
}

Tensor from_vector(const std::vector<float>& values, const Shape& sizes) {
  return from_vector(std::vector<double>(values.begin(), values.end()), sizes, kFloat32);
}

Tensor from_vector(const std::vector<std::int64_t>& values, const Shape& sizes) {
  RETORT_CHECK(static_cast<std::int64_t>(values.size()) == shape_numel(sizes), "from_vector: ",
               values.size(), " values for shape ", shape_str(sizes));
  Tensor t = empty(sizes, kInt64);
  // memcpy's pointers must be valid even for 0 bytes; an empty vector's data() may be null.
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(std::int64_t));
  return t;
}

Tensor empty_like(const Tensor& t) { return empty(t.sizes(), t.dtype(), t.device()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), t.dtype(), t.device()); }

Tensor as_strided(const Tensor& t, const Shape& sizes, const Shape& strides, std::int64_t offset) {
  RETORT_CHECK(sizes.size() == strides.size(), "as_strided: sizes ", shape_str(sizes), " and strides ",
               shape_str(strides), " differ in length");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->sizes = sizes;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

}  // namespace retort
