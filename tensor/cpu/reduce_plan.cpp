// plan_reduce (tensor/cpu/reduce_ops.h): packs the input and describes the reduction either as the
// [outer, reduced, inner] triple loop (the reduced dims are one block) or as alternating blocks
// of kept and reduced dims, reduced in one pass without permuting. Size-1 dims are ignored, since
// they do not move the element offsets.
#include "tensor/cpu/reduce_ops.h"

namespace retort::cpu {

ReducePlan plan_reduce(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim,
                       const char* op) {
  RETORT_CHECK(x.defined(), op, ": input tensor is undefined");
  RETORT_CHECK(x.device().is_cpu(), op, ": reductions run on cpu tensors, got ", x.str());
  const std::int64_t nd = x.dim();
  std::vector<bool> red(static_cast<std::size_t>(nd), dims.empty());
  for (std::int64_t d : dims) {
    const int w = wrap_dim(d, nd, op);
    if (nd == 0) continue;  // a 0-d tensor reduces to itself over dim 0 / −1
    RETORT_CHECK(!red[w], op, ": dim ", d, " appears more than once in the dims of ",
                 shape_str(x.sizes()));
    red[w] = true;
  }

  ReducePlan p;
  const Shape& s = x.sizes();
  for (std::int64_t d = 0; d < nd; ++d) {
    if (!red[d]) p.out_shape.push_back(s[d]);
    else if (keepdim) p.out_shape.push_back(1);
  }

  // First and last reduced dim that is not of size 1, and whether every non-1 dim between them is
  // reduced too.
  std::int64_t first = -1, last = -1;
  for (std::int64_t d = 0; d < nd; ++d) {
    if (!red[d] || s[d] == 1) continue;
    if (first < 0) first = d;
    last = d;
  }
  bool block = true;
  for (std::int64_t d = first + 1; first >= 0 && d < last; ++d)
    if (!red[d] && s[d] != 1) block = false;

  if (block) {
    p.packed = x.contiguous();
    if (first < 0) {
      p.layout = {x.numel(), 1, 1};
    } else {
      ReduceLayout& L = p.layout;
      for (std::int64_t d = 0; d < first; ++d) L.outer *= s[d];
      for (std::int64_t d = first; d <= last; ++d) L.reduced *= s[d];
      for (std::int64_t d = last + 1; d < nd; ++d) L.inner *= s[d];
    }
    return p;
  }

  // Scattered dims: merge runs of same-kind dims (size-1 dims dropped) into alternating blocks.
  p.packed = x.contiguous();
  p.one_block = false;
  for (std::int64_t d = 0; d < nd; ++d) {
    if (s[d] == 1) continue;
    auto& B = p.blocks;
    if (!B.size.empty() && B.reduced.back() == red[d]) {
      B.size.back() *= s[d];
    } else {
      B.size.push_back(s[d]);
      B.reduced.push_back(red[d]);
    }
  }
  return p;
}

}  // namespace retort::cpu
