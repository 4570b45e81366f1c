// Max and average pooling on cuDNN. Shapes and maths as in tensor/pool.h; the dispatch
// (tensor/pool.cpp) has checked the arguments, including padding ≤ kernel/2, so every window holds
// at least one image element.
//   max: CUDNN_POOLING_MAX_DETERMINISTIC. cuDNN treats padding as −∞ (it never wins), like the cpu
//        reference. Its backward has no saved arg-max: it reads x and y again and routes gy to the
//        window element equal to y, so the forward's x and y must be passed to it unchanged.
//   avg: CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING divides by KH·KW, ..._EXCLUDE_PADDING by the
//        window's in-image element count — count_include_pad true and false. (Windows never
//        reach past the padded image here, so "include padding" is exactly KH·KW.)
// Operands are packed NCHW; results are packed.
#include "tensor/cuda/dnn_common.h"
#include "tensor/cuda/ops.h"
#include "tensor/error.h"
#include "tensor/pool.h"

// Legacy cuDNN API on purpose; see dnn_common.h.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace retort::cuda {

namespace {

Dims4 dims(const Shape& s) { return {s[0], s[1], s[2], s[3]}; }

Shape pooled(const Shape& x, const ops::Pool2dParams& p) {
  return {x[0], x[1], (x[2] + 2 * p.padding[0] - p.kernel[0]) / p.stride[0] + 1,
          (x[3] + 2 * p.padding[1] - p.kernel[1]) / p.stride[1] + 1};
}

cudnnPoolingMode_t avg_mode(bool count_include_pad) {
  return count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                           : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
}

// cuDNN's output size for (x, pool) must be Retort's: a mismatch would mean reading or writing
// past y.
void check_output(const PoolDesc& pd, const TensorDesc& xd, const Shape& xs, const Shape& ys,
                  const char* op) {
  int n = 0, c = 0, h = 0, w = 0;
  RETORT_CUDA(cudnnGetPooling2dForwardOutputDim(pd.get(), xd.get(), &n, &c, &h, &w), op);
  RETORT_CHECK(Shape({n, c, h, w}) == ys, op, ": internal: cuDNN pools input ", shape_str(xs), " to [", n,
               ",", c, ",", h, ",", w, "], Retort to ", shape_str(ys));
}

Tensor forward(const Tensor& x, const ops::Pool2dParams& p, cudnnPoolingMode_t mode, const char* op) {
  check_cuda_tensor(x, op, "input");
  DeviceGuard guard(x);
  const Shape ys = pooled(x.sizes(), p);
  Tensor y = empty(ys, x.dtype(), x.device());
  if (y.numel() == 0) return y;
  const Tensor xc = x.contiguous();
  const PoolDesc pd(mode, p.kernel, p.padding, p.stride, op);
  const TensorDesc xd(x.dtype(), dims(x.sizes()), op), yd(x.dtype(), dims(ys), op);
  check_output(pd, xd, x.sizes(), ys, op);
  const Blend blend(x.dtype());
  RETORT_CUDA(cudnnPoolingForward(cudnn(), pd.get(), blend.one(), xd.get(), xc.raw_data(), blend.zero(),
                                  yd.get(), y.raw_data()),
              op);
  return y;
}

// gx from gy; x and y are the forward's input and output (read by max pooling only; average
// pooling gets gx's and gy's buffers in their place, see avg_pool2d_backward).
Tensor backward(const Tensor& gy, const Shape& xs, const void* x, const void* y, const Tensor& gx,
                const ops::Pool2dParams& p, cudnnPoolingMode_t mode, const char* op) {
  const Tensor gyc = gy.contiguous();
  const PoolDesc pd(mode, p.kernel, p.padding, p.stride, op);
  const TensorDesc xd(gy.dtype(), dims(xs), op), yd(gy.dtype(), dims(gy.sizes()), op);
  check_output(pd, xd, xs, gy.sizes(), op);
  const Blend blend(gy.dtype());
  RETORT_CUDA(cudnnPoolingBackward(cudnn(), pd.get(), blend.one(), yd.get(), y ? y : gyc.raw_data(), yd.get(),
                                   gyc.raw_data(), xd.get(), x ? x : gx.raw_data(), blend.zero(), xd.get(),
                                   gx.raw_data()),
              op);
  return gx;
}

}  // namespace

Tensor max_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p) {
  return forward(x, p, CUDNN_POOLING_MAX_DETERMINISTIC, "cuda max_pool2d");
}

Tensor max_pool2d_backward(const Tensor& gy, const Tensor& x, const Tensor& y, const ops::Pool2dParams& p) {
  const char* op = "cuda max_pool2d_backward";
  check_cuda_tensor(gy, op, "gradient");
  check_cuda_tensor(x, op, "the forward's input");
  check_cuda_tensor(y, op, "the forward's output");
  RETORT_CHECK(y.sizes() == gy.sizes() && y.sizes() == pooled(x.sizes(), p) && x.dtype() == gy.dtype() &&
                   y.dtype() == gy.dtype(),
               op, ": gradient ", shape_str(gy.sizes()), " ", dtype_name(gy.dtype()), ", input ",
               shape_str(x.sizes()), " ", dtype_name(x.dtype()), " and output ", shape_str(y.sizes()),
               " do not belong together");
  DeviceGuard guard(gy);
  Tensor gx = empty(x.sizes(), gy.dtype(), gy.device());
  if (gx.numel() == 0) return gx;
  if (gy.numel() == 0) {
    zero_(gx, op);
    return gx;
  }
  const Tensor xc = x.contiguous(), yc = y.contiguous();
  return backward(gy, x.sizes(), xc.raw_data(), yc.raw_data(), gx, p, CUDNN_POOLING_MAX_DETERMINISTIC, op);
}

Tensor avg_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p, bool count_include_pad) {
  return forward(x, p, avg_mode(count_include_pad), "cuda avg_pool2d");
}

// Only x_like's sizes are read (the dispatch passes a shape-only placeholder). Average pooling's
// gradient does not depend on x or y, but cuDNN's call takes them: gx's and gy's own buffers stand
// in, valid device memory of the right sizes whatever cuDNN does with them.
Tensor avg_pool2d_backward(const Tensor& gy, const Tensor& x_like, const ops::Pool2dParams& p,
                           bool count_include_pad) {
  const char* op = "cuda avg_pool2d_backward";
  check_cuda_tensor(gy, op, "gradient");
  RETORT_CHECK(x_like.defined() && x_like.dim() == 4 && gy.sizes() == pooled(x_like.sizes(), p), op,
               ": gradient ", shape_str(gy.sizes()), " does not match input ",
               x_like.defined() ? shape_str(x_like.sizes()) : "undefined");
  DeviceGuard guard(gy);
  Tensor gx = empty(x_like.sizes(), gy.dtype(), gy.device());
  if (gx.numel() == 0) return gx;
  if (gy.numel() == 0) {
    zero_(gx, op);
    return gx;
  }
  return backward(gy, x_like.sizes(), nullptr, nullptr, gx, p, avg_mode(count_include_pad), op);
}

}  // namespace retort::cuda

#pragma GCC diagnostic pop
