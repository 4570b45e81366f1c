// Pooling on oneDNN. Plans (primitive desc + primitive) are cached by algorithm, layouts and
// params. Results are laid out in the input's dim order: pooling reads each element once, so a
// reorder to a blocked layout would cost as much as the pooling itself.
#include "tensor/onednn/pool.h"

#include <unordered_map>

#include "tensor/onednn/blocked.h"
#include "tensor/onednn/strided.h"

namespace retort::onednn {

namespace {

namespace dn = dnnl;
using dnnl::memory;

struct Geometry {
  memory::dims strides, kernel, pad_l, pad_r;
};

// oneDNN wants the right padding that makes its size formula give the floor-mode output size;
// it is negative when the last input rows are never read, which oneDNN accepts.
Geometry geometry(const Shape& x, const Shape& y, const ops::Pool2dParams& p) {
  Geometry g;
  for (int d = 0; d < 2; ++d) {
    g.strides.push_back(p.stride[d]);
    g.kernel.push_back(p.kernel[d]);
    g.pad_l.push_back(p.padding[d]);
    g.pad_r.push_back((y[2 + d] - 1) * p.stride[d] + p.kernel[d] - x[2 + d] - p.padding[d]);
  }
  return g;
}

Shape pooled(const Shape& x, const ops::Pool2dParams& p) {
  return {x[0], x[1], (x[2] + 2 * p.padding[0] - p.kernel[0]) / p.stride[0] + 1,
          (x[3] + 2 * p.padding[1] - p.kernel[1]) / p.stride[1] + 1};
}

dn::algorithm avg_algorithm(bool count_include_pad) {
  return count_include_pad ? dn::algorithm::pooling_avg_include_padding
                           : dn::algorithm::pooling_avg_exclude_padding;
}

struct ForwardPlan {
  std::string key;
  dn::pooling_forward::primitive_desc pd;
  dn::pooling_forward prim;
};
struct BackwardPlan {
  dn::pooling_backward::primitive_desc pd;
  dn::pooling_backward prim;
};

// The forward plan from layout src to layout dst (format_tag::any lets oneDNN pick).
ForwardPlan& forward_plan(dn::algorithm a, dn::prop_kind prop, const memory::desc& src,
                          const memory::desc& dst, const ops::Pool2dParams& p) {
  std::string key = "pool2d:";
  key_add(key, static_cast<std::int64_t>(a));
  key_add(key, static_cast<std::int64_t>(prop));
  key += desc_key(src) + "->" + desc_key(dst);
  for (int d = 0; d < 2; ++d) {
    key_add(key, p.kernel[d]);
    key_add(key, p.stride[d]);
    key_add(key, p.padding[d]);
  }
  return cached<ForwardPlan>(key, [&] {
    const Geometry g = geometry(src.dims(), dst.dims(), p);
    dn::pooling_forward::desc d(prop, a, src, dst, g.strides, g.kernel, g.pad_l, g.pad_r);
    dn::pooling_forward::primitive_desc pd(d, engine());
    return ForwardPlan{key, pd, dn::pooling_forward(pd)};
  });
}

// Runs the forward; returns y and, when ws is non-null, the workspace. A deferred blocked x
// (blocked.h) is pooled in its blocked layout into a deferred blocked y; any other x in its own
// layout into a y of x's dim order.
Tensor forward(dn::algorithm a, const Tensor& x_in, const ops::Pool2dParams& p,
               std::shared_ptr<const PoolWorkspace>* ws) {
  std::lock_guard<std::mutex> lock(scratch_mutex());
  Tensor x = dense_or_packed(x_in);
  const Shape ysz = pooled(x.sizes(), p);
  const Shape yst = ordered_strides(x, ysz);
  const bool training = ws != nullptr;
  const auto prop = training ? dn::prop_kind::forward_training : dn::prop_kind::forward_inference;
  auto bx = blocked_of(x);
  ForwardPlan& plan =
      bx ? forward_plan(a, prop, bx->desc,
                        memory::desc(dims_of(ysz), memory::data_type::f32, memory::format_tag::any), p)
         : forward_plan(a, prop, canonical_desc(x), strided_desc(ysz, yst), p);
  Result y = result_in(plan.pd.dst_desc(), ysz, yst);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in_layout(x, plan.pd.src_desc(), Slot::Src)},
                                       {DNNL_ARG_DST, y.mem}};
  if (training) {
    auto w = std::make_shared<PoolWorkspace>();
    w->fwd_pd = plan.pd;
    w->x_sizes = x.sizes();
    w->x_strides = canonical_strides(x.sizes(), x.strides());
    if (plan.pd.workspace_desc().get_size() > 0) {
      w->workspace = memory(plan.pd.workspace_desc(), engine());
      args.emplace(DNNL_ARG_WORKSPACE, w->workspace);
    }
    *ws = std::move(w);
  }
  plan.prim.execute(stream(), args);
  stream().wait();
  return y.tensor;
}

// gx (written to gxm, in gxm's layout) from gy through the backward matching `fwd`.
void backward(dn::algorithm a, const dn::pooling_forward::primitive_desc& fwd, const Tensor& gy_in,
              const memory& gxm, const ops::Pool2dParams& p, const memory& workspace) {
  std::lock_guard<std::mutex> lock(scratch_mutex());
  const memory::desc dst = fwd.dst_desc(), src = gxm.get_desc();
  std::string key = "pool2d_bwd:";
  key_add(key, static_cast<std::int64_t>(a));
  key += desc_key(src) + "<-" + desc_key(dst);
  for (int d = 0; d < 2; ++d) {
    key_add(key, p.kernel[d]);
    key_add(key, p.stride[d]);
    key_add(key, p.padding[d]);
  }
  auto& plan = cached<BackwardPlan>(key, [&] {
    const Geometry g = geometry(src.dims(), gy_in.sizes(), p);
    dn::pooling_backward::desc d(a, src, dst, g.strides, g.kernel, g.pad_l, g.pad_r);
    dn::pooling_backward::primitive_desc pd(d, engine(), fwd);
    return BackwardPlan{pd, dn::pooling_backward(pd)};
  });
  // The workspace refers to positions in y's layout, so gy is brought to that layout.
  const Tensor gy = dense_or_packed(gy_in);
  const auto gy_blocked = blocked_of(gy);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_DIFF_DST, in_layout(gy, plan.pd.diff_dst_desc(), Slot::DiffDst)},
      {DNNL_ARG_DIFF_SRC, gxm}};
  if (workspace) args.emplace(DNNL_ARG_WORKSPACE, workspace);
  plan.prim.execute(stream(), args);
  stream().wait();
}

}  // namespace

Tensor max_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p,
                          std::shared_ptr<const PoolWorkspace>* ws) {
  return forward(dn::algorithm::pooling_max, x, p, ws);
}

Tensor max_pool2d_backward(const Tensor& gy, const PoolWorkspace& ws, const ops::Pool2dParams& p) {
  Result gx = result_in(ws.fwd_pd.src_desc(), ws.x_sizes, ws.x_strides);
  backward(dn::algorithm::pooling_max, ws.fwd_pd, gy, gx.mem, p, ws.workspace);
  return gx.tensor;
}

Tensor avg_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p, bool count_include_pad) {
  return forward(avg_algorithm(count_include_pad), x, p, nullptr);
}

Tensor avg_pool2d_backward(const Tensor& gy_in, const Shape& x_sizes, const ops::Pool2dParams& p,
                           bool count_include_pad) {
  // No workspace: the forward hint only fixes layouts, so gy's own layout is used throughout.
  Tensor gy = dense_or_packed(gy_in);
  Tensor gx = empty_ordered_like(gy, x_sizes);
  const auto a = avg_algorithm(count_include_pad);
  ForwardPlan& fwd = forward_plan(a, dn::prop_kind::forward_training, canonical_desc(gx),
                                  canonical_desc(gy), p);
  backward(a, fwd.pd, gy, memory(canonical_desc(gx), engine(), gx.raw_data()), p, memory());
  return gx;
}

}  // namespace retort::onednn
