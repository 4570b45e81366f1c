// Tensor: a strided view of a Storage with a shape, a dtype and a device.
//
// A Tensor is a cheap handle (shared_ptr to its TensorImpl); copies alias the same data. Views
// (reshape of a contiguous tensor, permute, narrow, select, expand, ...) share storage and differ
// only in sizes/strides/offset. Element (i0, i1, ...) lives at data + offset + Σ ik·stride[k].
//
// The autograd fields (requires_grad, grad, grad_fn) are stored here so a single type flows
// through the whole library, but this layer never reads them: graph recording and backward live
// in autograd/, which is the only code that sets grad_fn.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace retort {

namespace autograd {
class Node;
}

class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape sizes;
  Shape strides;
  std::int64_t offset = 0;  // in elements
  DType dtype = DType::Float32;

  // Autograd state (owned by autograd/; see the header comment).
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  std::string name;  // optional label shown in graph dumps
  // Leaf hooks run by the backward engine once this leaf's gradient is final for the pass
  // (autograd/grad_hooks.h), with their registration ids.
  std::vector<std::pair<std::uint64_t, std::function<void(const Tensor&)>>> post_accumulate_hooks;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

  // Metadata.
  const Shape& sizes() const { return impl_->sizes; }
  const Shape& shape() const { return impl_->sizes; }
  const Shape& strides() const { return impl_->strides; }
  std::int64_t size(std::int64_t dim) const;
  std::int64_t stride(std::int64_t dim) const;
  std::int64_t dim() const { return static_cast<std::int64_t>(impl_->sizes.size()); }
  std::int64_t numel() const { return shape_numel(impl_->sizes); }
  std::int64_t offset() const { return impl_->offset; }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device(); }
  bool is_contiguous() const;
  std::string str() const;  // "Tensor[2,3] float32 cpu"

  // Raw data (CPU): pointer to element 0 of this view. T must match dtype.
  template <class T> T* data() const {
    check_access(dtype_of<T>::value);
    return static_cast<T*>(impl_->storage->data()) + impl_->offset;
  }
  void* raw_data() const;  // element 0 of this view, any dtype, any device
  // The single value of a one-element tensor, converted to T.
  template <class T> T item() const;
  // Copies values out (any dtype, converted), in row-major order of this view.
  template <class T> std::vector<T> to_vector() const;

  // Data movement (not differentiable; see autograd/ for the recorded versions).
  Tensor contiguous() const;          // this, or a packed copy when not contiguous
  Tensor clone() const;               // always a packed copy
  Tensor to(DType t) const;           // converted copy (this when the dtype already matches)
  Tensor to(Device d) const;          // copy to another device (this when already there)
  void copy_(const Tensor& src);      // elementwise copy with broadcasting of src, in place
  void fill_(double value);

  // Autograd state (managed by autograd/).
  bool requires_grad() const { return impl_ && impl_->requires_grad; }
  Tensor& set_requires_grad(bool r = true);
  Tensor grad() const { return impl_->grad ? Tensor(impl_->grad) : Tensor(); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl_->grad_fn; }
  // Reverse-mode backward from this tensor (defined in autograd/engine.cpp). A non-scalar needs
  // an explicit gradient of the same shape.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  void retain_grad() const { impl_->retains_grad = true; }

  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  void check_access(DType want) const;
  std::shared_ptr<TensorImpl> impl_;
};

// Where a new tensor or module lives (torch's dtype= and device= factory arguments). Modules
// with weights take one so that they are created in the dtype and device asked for.
struct TensorOptions {
  DType dtype = kFloat32;
  Device device = kCPU;
};

// Factories. Sizes are any shape; dtype defaults to float32, device to cpu.
Tensor empty(const Shape& sizes, DType dtype = kFloat32, Device device = kCPU);
Tensor zeros(const Shape& sizes, DType dtype = kFloat32, Device device = kCPU);
Tensor ones(const Shape& sizes, DType dtype = kFloat32, Device device = kCPU);
Tensor full(const Shape& sizes, double value, DType dtype = kFloat32, Device device = kCPU);
Tensor scalar_tensor(double value, DType dtype = kFloat32, Device device = kCPU);
Tensor arange(std::int64_t n, DType dtype = kInt64);
// From values in row-major order; values.size() must equal the shape's element count.
Tensor from_vector(const std::vector<double>& values, const Shape& sizes, DType dtype = kFloat32);
Tensor from_vector(const std::vector<float>& values, const Shape& sizes);
Tensor from_vector(const std::vector<std::int64_t>& values, const Shape& sizes);
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
// A view sharing t's storage with new metadata; no bounds check beyond the storage size.
Tensor as_strided(const Tensor& t, const Shape& sizes, const Shape& strides, std::int64_t offset);

}  // namespace retort
