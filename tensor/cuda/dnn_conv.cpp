// conv2d on cuDNN: forward, backward data, backward filter, bias gradient. Shapes and maths as in
// tensor/conv.h; the dispatch (tensor/conv.cpp) has checked the arguments. Operands are packed
// NCHW; groups and dilation go into the convolution descriptor.
//
// Algorithms: cuDNN's heuristics (Get*Algorithm_v7, no benchmarking, so the choice is
// reproducible and costs no extra GPU time) are asked once per (pass, shapes, params, dtype, TF32
// setting, device); the first candidate that is supported, whose math type is allowed and whose
// workspace size can be queried is cached with that size. The workspace comes from the caching
// allocator for the duration of the call.
//
// Math types: float32 without TF32 runs CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH would let Ampere and
// later GPUs use TF32 tensor cores); with set_allow_tf32(true) the candidate's own math type
// (tensor cores allowed). CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, which may down-convert to half,
// is never used. float64 takes the candidate's math type.
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/conv.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/cuda/dnn_common.h"
#include "tensor/cuda/ops.h"
#include "tensor/error.h"

// Legacy cuDNN API on purpose; see dnn_common.h.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace retort::cuda {

namespace {

Dims4 dims(const Shape& s) { return {s[0], s[1], s[2], s[3]}; }

Shape output_shape(const Shape& x, const Shape& w, const ops::Conv2dParams& p) {
  Shape y{x[0], w[0], 0, 0};
  for (int d = 0; d < 2; ++d)
    y[2 + d] = (x[2 + d] + 2 * p.padding[d] - p.dilation[d] * (w[2 + d] - 1) - 1) / p.stride[d] + 1;
  return y;
}

// The four descriptors of one convolution, checked against each other: cuDNN's output size for
// (x, w, params) must be y's.
struct Descs {
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
  Descs(DType dt, const Shape& xs, const Shape& ws, const Shape& ys, const ops::Conv2dParams& p,
        const char* op)
      : x(dt, dims(xs), op),
        y(dt, dims(ys), op),
        w(dt, dims(ws), op),
        conv(dt, p.padding, p.stride, p.dilation, p.groups, op) {
    int n = 0, c = 0, h = 0, wd = 0;
    RETORT_CUDA(cudnnGetConvolution2dForwardOutputDim(conv.get(), x.get(), w.get(), &n, &c, &h, &wd), op);
    RETORT_CHECK(Shape({n, c, h, wd}) == ys, op, ": internal: cuDNN computes output [", n, ",", c, ",", h,
                 ",", wd, "] for input ", shape_str(xs), " and weight ", shape_str(ws), ", Retort ",
                 shape_str(ys));
  }
};

struct Algo {
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  std::size_t workspace = 0;
};

std::mutex g_mu;
std::unordered_map<std::string, Algo>& cache() {
  static std::unordered_map<std::string, Algo> c;
  return c;
}

std::string key_of(const char* pass, DType dt, const Shape& xs, const Shape& ws, const ops::Conv2dParams& p,
                   int device) {
  std::ostringstream k;
  k << pass << dtype_name(dt) << (allow_tf32() ? "|tf32|" : "|fp32|") << device << shape_str(xs)
    << shape_str(ws);
  for (int d = 0; d < 2; ++d) k << '|' << p.stride[d] << ',' << p.padding[d] << ',' << p.dilation[d];
  k << '|' << p.groups;
  return k.str();
}

bool fp32_exact(DType dt) { return dt == DType::Float32 && !allow_tf32(); }

// The math type the heuristics are asked with, and whether a candidate's math type may run.
cudnnMathType_t query_math(DType dt) {
  if (dt != DType::Float32) return CUDNN_DEFAULT_MATH;
  return allow_tf32() ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
}
bool allowed(cudnnMathType_t m, DType dt) {
  if (m == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return false;
  return !(fp32_exact(dt) && m == CUDNN_TENSOR_OP_MATH);
}

// The cached algorithm for key, or the first usable candidate of query(count, &returned, perf)
// with its workspace size from size(algo, &bytes). Leaves the descriptor's math type set to the
// algorithm's.
template <class Perf, class Query, class Size>
Algo choose(const std::string& key, DType dt, const ConvDesc& conv, int max_count, Query query, Size size,
            const char* op, const std::string& shapes) {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = cache().find(key);
    if (it != cache().end()) {
      RETORT_CUDA(cudnnSetConvolutionMathType(conv.get(), it->second.math), op);
      return it->second;
    }
  }
  RETORT_CUDA(cudnnSetConvolutionMathType(conv.get(), query_math(dt)), op);
  std::vector<Perf> perf(static_cast<std::size_t>(max_count > 0 ? max_count : 1));
  int returned = 0;
  RETORT_CUDA(query(static_cast<int>(perf.size()), &returned, perf.data()), op);
  for (int i = 0; i < returned; ++i) {
    const Perf& c = perf[static_cast<std::size_t>(i)];
    if (c.status != CUDNN_STATUS_SUCCESS || !allowed(c.mathType, dt)) continue;
    Algo a{static_cast<int>(c.algo), fp32_exact(dt) ? CUDNN_FMA_MATH : c.mathType, 0};
    RETORT_CUDA(cudnnSetConvolutionMathType(conv.get(), a.math), op);
    if (size(c.algo, &a.workspace) != CUDNN_STATUS_SUCCESS) continue;  // not available with this math type
    std::lock_guard<std::mutex> lock(g_mu);
    cache().emplace(key, a);
    return a;
  }
  fail(op, ": cuDNN offers no usable algorithm for ", shapes, " (", dtype_name(dt),
       fp32_exact(dt) ? ", TF32 off)" : ")");
}

std::string shapes_str(const Shape& xs, const Shape& ws, const ops::Conv2dParams& p) {
  std::ostringstream os;
  os << "input " << shape_str(xs) << ", weight " << shape_str(ws) << ", stride " << p.stride[0] << 'x'
     << p.stride[1] << ", padding " << p.padding[0] << 'x' << p.padding[1] << ", dilation " << p.dilation[0]
     << 'x' << p.dilation[1] << ", groups " << p.groups;
  return os.str();
}

}  // namespace

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ops::Conv2dParams& p) {
  const char* op = "cuda conv2d";
  check_cuda_tensor(x, op, "input");
  check_cuda_tensor(w, op, "weight");
  if (bias.defined()) check_cuda_tensor(bias, op, "bias");
  DeviceGuard guard(x);
  const DType dt = x.dtype();
  const Shape ys = output_shape(x.sizes(), w.sizes(), p);
  Tensor y = empty(ys, dt, x.device());
  if (y.numel() == 0) return y;
  const Blend blend(dt);
  if (x.numel() == 0 || w.numel() == 0) {
    zero_(y, op);  // every tap reads padding or there are no taps: only the bias remains
  } else {
    const Tensor xc = x.contiguous(), wc = w.contiguous();
    const Descs d(dt, x.sizes(), w.sizes(), ys, p, op);
    int n = 0;
    RETORT_CUDA(cudnnGetConvolutionForwardAlgorithmMaxCount(cudnn(), &n), op);
    const Algo a = choose<cudnnConvolutionFwdAlgoPerf_t>(
        key_of("fwd|", dt, x.sizes(), w.sizes(), p, x.device().index), dt, d.conv, n,
        [&](int cnt, int* ret, cudnnConvolutionFwdAlgoPerf_t* perf) {
          return cudnnGetConvolutionForwardAlgorithm_v7(cudnn(), d.x.get(), d.w.get(), d.conv.get(),
                                                        d.y.get(), cnt, ret, perf);
        },
        [&](cudnnConvolutionFwdAlgo_t algo, std::size_t* bytes) {
          return cudnnGetConvolutionForwardWorkspaceSize(cudnn(), d.x.get(), d.w.get(), d.conv.get(),
                                                         d.y.get(), algo, bytes);
        },
        op, shapes_str(x.sizes(), w.sizes(), p));
    Workspace ws(a.workspace, x.device().index);
    RETORT_CUDA(
        cudnnConvolutionForward(cudnn(), blend.one(), d.x.get(), xc.raw_data(), d.w.get(), wc.raw_data(),
                                d.conv.get(), static_cast<cudnnConvolutionFwdAlgo_t>(a.algo), ws.get(),
                                ws.size(), blend.zero(), d.y.get(), y.raw_data()),
        op);
  }
  if (bias.defined()) {
    const Tensor bc = bias.contiguous();
    const TensorDesc bd(dt, {1, ys[1], 1, 1}, op), yd(dt, dims(ys), op);
    RETORT_CUDA(
        cudnnAddTensor(cudnn(), blend.one(), bd.get(), bc.raw_data(), blend.one(), yd.get(), y.raw_data()),
        op);
  }
  return y;
}

Tensor conv2d_backward_data(const Tensor& gy, const Tensor& w, const Shape& x_sizes,
                            const ops::Conv2dParams& p) {
  const char* op = "cuda conv2d_backward_data";
  check_cuda_tensor(gy, op, "gradient");
  check_cuda_tensor(w, op, "weight");
  DeviceGuard guard(gy);
  const DType dt = gy.dtype();
  Tensor gx = empty(x_sizes, dt, gy.device());
  if (gx.numel() == 0) return gx;
  if (gy.numel() == 0 || w.numel() == 0) {
    zero_(gx, op);
    return gx;
  }
  const Tensor gyc = gy.contiguous(), wc = w.contiguous();
  const Descs d(dt, x_sizes, w.sizes(), gy.sizes(), p, op);
  int n = 0;
  RETORT_CUDA(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnn(), &n), op);
  const Algo a = choose<cudnnConvolutionBwdDataAlgoPerf_t>(
      key_of("bwd_data|", dt, x_sizes, w.sizes(), p, gy.device().index), dt, d.conv, n,
      [&](int cnt, int* ret, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
        return cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnn(), d.w.get(), d.y.get(), d.conv.get(),
                                                           d.x.get(), cnt, ret, perf);
      },
      [&](cudnnConvolutionBwdDataAlgo_t algo, std::size_t* bytes) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(cudnn(), d.w.get(), d.y.get(), d.conv.get(),
                                                            d.x.get(), algo, bytes);
      },
      op, shapes_str(x_sizes, w.sizes(), p));
  Workspace ws(a.workspace, gy.device().index);
  const Blend blend(dt);
  RETORT_CUDA(
      cudnnConvolutionBackwardData(cudnn(), blend.one(), d.w.get(), wc.raw_data(), d.y.get(), gyc.raw_data(),
                                   d.conv.get(), static_cast<cudnnConvolutionBwdDataAlgo_t>(a.algo), ws.get(),
                                   ws.size(), blend.zero(), d.x.get(), gx.raw_data()),
      op);
  return gx;
}

Tensor conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Shape& w_sizes,
                              const ops::Conv2dParams& p) {
  const char* op = "cuda conv2d_backward_weight";
  check_cuda_tensor(gy, op, "gradient");
  check_cuda_tensor(x, op, "input");
  DeviceGuard guard(gy);
  const DType dt = gy.dtype();
  Tensor gw = empty(w_sizes, dt, gy.device());
  if (gw.numel() == 0) return gw;
  if (gy.numel() == 0 || x.numel() == 0) {
    zero_(gw, op);
    return gw;
  }
  const Tensor gyc = gy.contiguous(), xc = x.contiguous();
  const Descs d(dt, x.sizes(), w_sizes, gy.sizes(), p, op);
  int n = 0;
  RETORT_CUDA(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnn(), &n), op);
  const Algo a = choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
      key_of("bwd_filter|", dt, x.sizes(), w_sizes, p, gy.device().index), dt, d.conv, n,
      [&](int cnt, int* ret, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
        return cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnn(), d.x.get(), d.y.get(), d.conv.get(),
                                                             d.w.get(), cnt, ret, perf);
      },
      [&](cudnnConvolutionBwdFilterAlgo_t algo, std::size_t* bytes) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnn(), d.x.get(), d.y.get(), d.conv.get(),
                                                              d.w.get(), algo, bytes);
      },
      op, shapes_str(x.sizes(), w_sizes, p));
  Workspace ws(a.workspace, gy.device().index);
  const Blend blend(dt);
  RETORT_CUDA(cudnnConvolutionBackwardFilter(cudnn(), blend.one(), d.x.get(), xc.raw_data(), d.y.get(),
                                             gyc.raw_data(), d.conv.get(),
                                             static_cast<cudnnConvolutionBwdFilterAlgo_t>(a.algo), ws.get(),
                                             ws.size(), blend.zero(), d.w.get(), gw.raw_data()),
              op);
  return gw;
}

Tensor conv2d_backward_bias(const Tensor& gy) {
  const char* op = "cuda conv2d_backward_bias";
  check_cuda_tensor(gy, op, "gradient");
  DeviceGuard guard(gy);
  const DType dt = gy.dtype();
  Tensor gb = empty({gy.size(1)}, dt, gy.device());
  if (gb.numel() == 0) return gb;
  if (gy.numel() == 0) {
    zero_(gb, op);
    return gb;
  }
  const Tensor gyc = gy.contiguous();
  const TensorDesc gd(dt, dims(gy.sizes()), op), bd(dt, {1, gy.size(1), 1, 1}, op);
  const Blend blend(dt);
  RETORT_CUDA(cudnnConvolutionBackwardBias(cudnn(), blend.one(), gd.get(), gyc.raw_data(), blend.zero(),
                                           bd.get(), gb.raw_data()),
              op);
  return gb;
}

}  // namespace retort::cuda

#pragma GCC diagnostic pop
