// oneDNN pooling fast path (float32, CPU). Same maths and shapes as tensor/pool.h; arguments are
// already checked by the dispatch. Pooling is memory-bound, so it runs in the tensor's own plain
// layout (NCHW or NHWC, no reorders): y and gx are laid out like x.
#pragma once
#include <memory>

#include <oneapi/dnnl/dnnl.hpp>

#include "tensor/pool.h"

namespace retort::onednn {

// What a max-pool forward leaves for its backward: oneDNN's workspace (the winning tap of each
// window) and the layouts it refers to.
struct PoolWorkspace {
  dnnl::pooling_forward::primitive_desc fwd_pd;  // the forward's layouts (gy is brought to y's)
  Shape x_sizes, x_strides;                      // x's dense layout, which gx gets
  dnnl::memory workspace;
};

// y = max pool of x; *ws receives the workspace when ws is non-null.
Tensor max_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p,
                          std::shared_ptr<const PoolWorkspace>* ws);
Tensor max_pool2d_backward(const Tensor& gy, const PoolWorkspace& ws, const ops::Pool2dParams& p);

Tensor avg_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p, bool count_include_pad);
Tensor avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes, const ops::Pool2dParams& p,
                           bool count_include_pad);

}  // namespace retort::onednn
