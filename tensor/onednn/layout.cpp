// Reorders and scratch slots. Slots grow to the largest operand seen and are then reused, because
// fresh multi-megabyte allocations each step would cost a page fault per 4 KiB on first touch,
// which on this machine is as slow as the reorder itself.
#include "tensor/onednn/layout.h"

#include <algorithm>
#include <array>
#include <numeric>

#include "tensor/cpu/elementwise.h"
#include "tensor/onednn/strided.h"

namespace retort::onednn {

std::string desc_key(const dnnl::memory::desc& d) {
  const dnnl_memory_desc_t& m = d.data;
  std::string key;
  auto add = [&key](char tag, std::int64_t v) {
    key += tag;
    key += std::to_string(v);
  };
  add('t', m.data_type);
  add('f', m.format_kind);
  for (int i = 0; i < m.ndims; ++i) {
    add('d', m.dims[i]);
    add('p', m.padded_dims[i]);
  }
  add('o', m.offset0);
  if (m.format_kind == dnnl_blocked) {
    const auto& b = m.format_desc.blocking;
    for (int i = 0; i < m.ndims; ++i) add('s', b.strides[i]);
    for (int i = 0; i < b.inner_nblks; ++i) {
      add('b', b.inner_blks[i]);
      add('@', b.inner_idxs[i]);
    }
  } else {
    // Opaque formats (e.g. Winograd weights): their bytes identify them.
    const auto* p = reinterpret_cast<const unsigned char*>(&m.format_desc);
    for (std::size_t i = 0; i < sizeof(m.format_desc); ++i) add('.', p[i]);
  }
  add('x', m.extra.flags);
  return key;
}

std::optional<Shape> plain_strides(const dnnl::memory::desc& d) {
  const dnnl_memory_desc_t& m = d.data;
  if (m.format_kind != dnnl_blocked || m.format_desc.blocking.inner_nblks != 0 || m.offset0 != 0)
    return std::nullopt;
  Shape st(static_cast<std::size_t>(m.ndims));
  for (int i = 0; i < m.ndims; ++i) {
    if (m.padded_dims[i] != m.dims[i]) return std::nullopt;
    st[static_cast<std::size_t>(i)] = m.format_desc.blocking.strides[i];
  }
  return st;
}

Tensor dense_or_packed(const Tensor& t) { return cpu::is_dense(t) ? t : t.contiguous(); }

Tensor readable_or_packed(const Tensor& t) { return cpu::non_overlapping(t) ? t : t.contiguous(); }

Tensor empty_strided(const Shape& sizes, const Shape& strides) {
  return as_strided(empty({shape_numel(sizes)}), sizes, strides, 0);
}

Shape ordered_strides(const Tensor& like, const Shape& sizes) {
  if (like.is_contiguous() || !cpu::is_dense(like)) return contiguous_strides(sizes);
  const Shape st = canonical_strides(like.sizes(), like.strides());
  std::vector<std::size_t> order(st.size());
  std::iota(order.begin(), order.end(), 0);
  // Innermost first; among equal strides (size-1 dims) the later dim is the inner one, as in a
  // row-major layout.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return st[a] < st[b] || (st[a] == st[b] && a > b);
  });
  Shape out(st.size());
  std::int64_t span = 1;
  for (auto d : order) {
    out[d] = span;
    span *= sizes[d];
  }
  return out;
}

Tensor empty_ordered_like(const Tensor& like, const Shape& sizes) {
  if (like.is_contiguous() || !cpu::is_dense(like)) return empty(sizes);
  return empty_strided(sizes, ordered_strides(like, sizes));
}

void reorder(const dnnl::memory& src, const dnnl::memory& dst) {
  const auto sd = src.get_desc(), dd = dst.get_desc();
  auto& prim = cached<dnnl::reorder>("reorder:" + desc_key(sd) + "->" + desc_key(dd), [&] {
    return dnnl::reorder(dnnl::reorder::primitive_desc(engine(), sd, engine(), dd));
  });
  prim.execute(stream(), const_cast<dnnl::memory&>(src), const_cast<dnnl::memory&>(dst));
}

std::mutex& scratch_mutex() {
  static std::mutex mu;
  return mu;
}

dnnl::memory slot_memory(Slot s, const dnnl::memory::desc& d) {
  static std::array<Tensor, static_cast<std::size_t>(Slot::Count)> buffers;
  Tensor& buf = buffers[static_cast<std::size_t>(s)];
  const auto floats = static_cast<std::int64_t>((d.get_size() + 3) / 4);
  if (!buf.defined() || buf.numel() < floats) buf = empty({std::max<std::int64_t>(floats, 1)});
  return dnnl::memory(d, engine(), buf.raw_data());
}

dnnl::memory in_layout(const dnnl::memory& user, const dnnl::memory::desc& want, Slot s) {
  if (user.get_desc() == want) return user;
  dnnl::memory m = slot_memory(s, want);
  reorder(user, m);
  return m;
}

}  // namespace retort::onednn
