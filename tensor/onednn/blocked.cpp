// Deferred tensors over blocked buffers (see blocked.h). The blocked copy is recognised only on
// the very tensor it was made for: a view (narrow, reshape, ...) has other sizes or an offset and
// goes through data(), so it can never read the blocked bytes under the wrong coordinates.
#include "tensor/onednn/blocked.h"

#include "tensor/onednn/strided.h"

namespace retort::onednn {

using dnnl::memory;

void Blocked::materialize(void* plain) const {
  reorder(this->memory(), dnnl::memory(strided_desc(sizes, canonical_strides(sizes, strides)),
                                       engine(), plain));
  stream().wait();
}

memory Blocked::memory() const { return dnnl::memory(desc, engine(), buffer.raw_data()); }

Tensor blocked_buffer(const memory::desc& d) {
  return empty({std::max<std::int64_t>(static_cast<std::int64_t>((d.get_size() + 3) / 4), 1)});
}

Tensor deferred(const Shape& sizes, const Shape& strides, const memory::desc& d,
                const Tensor& buffer) {
  auto alt = std::make_shared<Blocked>();
  alt->desc = d;
  alt->buffer = buffer;
  alt->sizes = sizes;
  alt->strides = strides;
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(
      static_cast<std::size_t>(shape_numel(sizes)) * sizeof(float), std::move(alt));
  impl->sizes = sizes;
  impl->strides = strides;
  impl->dtype = kFloat32;
  return Tensor(std::move(impl));
}

std::shared_ptr<const Blocked> blocked_of(const Tensor& t) {
  if (!t.defined() || !t.device().is_cpu() || t.dtype() != kFloat32) return nullptr;
  auto b = std::dynamic_pointer_cast<const Blocked>(t.impl()->storage->alt());
  if (!b || t.offset() != 0 || t.sizes() != b->sizes || t.strides() != b->strides) return nullptr;
  return b;
}

memory in_layout(const Tensor& t, const memory::desc& want, Slot s) {
  if (auto b = blocked_of(t); b && b->desc == want) return b->memory();
  return in_layout(memory(canonical_desc(t), engine(), t.raw_data()), want, s);
}

Result result_in(const memory::desc& d, const Shape& sizes, const Shape& strides) {
  if (auto plain = plain_strides(d)) {
    Tensor t = empty_strided(sizes, *plain);
    return {t, memory(d, engine(), t.raw_data())};
  }
  Tensor buffer = blocked_buffer(d);
  return {deferred(sizes, strides, d, buffer), memory(d, engine(), buffer.raw_data())};
}

}  // namespace retort::onednn
