// The CUDA implementations behind the tensor layer's dispatch points (namespace retort::cuda).
// Only compiled, and only called, when RETORT_WITH_CUDA is on: each op in tensor/*.cpp checks
// `x.device().is_cuda()` under `#if RETORT_WITH_CUDA` and forwards here with already-validated
// arguments (same dtype, same device, shapes checked, broadcast shape computed), so these
// functions only check what is specific to the GPU. All work is queued on the one stream of
// cuda::stream(); results are new packed (contiguous) tensors on the input's device.
//
// Sources: elementwise.cu, reduce.cu, index.cu, random.cu, optim.cu (own kernels);
// blas.cpp (cuBLAS), dnn_*.cpp (cuDNN).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "tensor/tensor.h"

namespace retort::ops {
struct Conv2dParams;
struct Pool2dParams;
struct ValuesIndices;
struct BatchNormTrain;
struct BatchNormGrads;
}  // namespace retort::ops

namespace retort::cuda {

// ---- elementwise (elementwise.cu): strided inputs broadcast to the output shape --------------
enum class Unary { Neg, Abs, Sign, Exp, Log, Sqrt, Square, Pow, Clamp, Relu, Sigmoid, Tanh, Round };
enum class Binary {
  Add, Sub, Mul, Div, Max, Min,        // arithmetic (Max/Min: first operand wins ties, like the cpu)
  Eq, Ne, Lt, Le, Gt, Ge,              // masks: 1 or 0 in the operands' dtype
  RSub, RDiv,                          // b − a, b / a
  ReluBwd, SigmoidBwd, TanhBwd         // (g, y) → g·[y>0], g·y(1−y), g·(1−y²)
};
// y = f(x); p0/p1: the exponent of Pow, the bounds of Clamp.
Tensor unary(Unary op, const Tensor& x, double p0 = 0, double p1 = 0);
Tensor binary(Binary op, const Tensor& a, const Tensor& b, const Shape& out_shape);
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b, const Shape& out_shape);
void binary_(Binary op, const Tensor& a, const Tensor& b);          // a ← a op b (b broadcast)
void add_scaled_(const Tensor& a, const Tensor& b, double alpha);   // a ← a + alpha·b
void mul_scalar_(const Tensor& a, double s);
bool all_finite(const Tensor& x);
// dst ← src (src broadcast to dst's shape, dtype converted); both on the same cuda device, any
// strides on either side.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& t, double value);

// ---- reductions (reduce.cu) -----------------------------------------------------------------
enum class Reduce { Sum, Mean, Var, LogSumExp, Norm };
// Reduces dims (empty = all) of x; p = correction for Var, the order for Norm. Sums accumulate
// in double for float32 inputs, like the cpu reference.
Tensor reduce(Reduce kind, const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim,
              double p, const char* op);
// Max or min over dims with the index of the first extreme (NaN propagates), values and/or
// indices as asked.
ops::ValuesIndices extreme(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim,
                           bool is_max, bool want_values, bool want_indices, const char* op);

// ---- indexing (index.cu): idx is int64 on the same device; bounds are checked on the device and
// reported (op, offending index, extent) after the kernel. ---------------------------------------
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& idx);
void index_add_(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src);
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& idx);
void scatter_add_(const Tensor& x, std::int64_t dim, const Tensor& idx, const Tensor& src);
Tensor one_hot(const Tensor& labels, std::int64_t num_classes, DType dtype);

// ---- random (random.cu): counter-based, reproducible for a given seed -----------------------------
// Fills t with Bernoulli(p) as 0/1 in t's dtype; the stream of numbers is a function of (seed,
// element index) only, so a run is reproducible on one GPU for one seed.
void bernoulli_(const Tensor& t, double p, std::uint64_t seed);

// ---- fused optimizer updates (optim.cu): one kernel per parameter tensor ------------------------
struct AdamStep {
  double lr, beta1, beta2, eps, weight_decay, step_size, bias_correction2_sqrt;
  bool decoupled, amsgrad, maximize;
};
// p, g, m, v (vmax when amsgrad) contiguous, same dtype and numel; mirrors optim/adam.cpp's loop.
void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v,
                 const Tensor& vmax, const AdamStep& s);
struct SgdStep {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize, first;  // first: the momentum buffer is initialised to g
};
void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, const SgdStep& s);

// ---- cuBLAS (blas.cpp): float32 and float64; TF32 only after set_allow_tf32(true) ----------------
// c[b] = a[b] · b[b] for packed or transposed operands; a [B, M, K], b [B, K, N] (B = 1 for 2-D).
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor matmul2d(const Tensor& a, const Tensor& b);  // [M, K] · [K, N]

// ---- cuDNN (dnn_*.cpp) ----------------------------------------------------------------------
// Activations (float32/float64, any layout: packed first when needed).
enum class Activation { Relu, Sigmoid, Tanh };
Tensor activation_forward(Activation kind, const Tensor& x);
Tensor activation_backward(Activation kind, const Tensor& g, const Tensor& y);

// Softmax / log-softmax over dim (x viewed as [outer, C, inner] NCHW-style).
Tensor softmax(const Tensor& x, std::int64_t dim, bool log);
Tensor softmax_backward(const Tensor& g, const Tensor& y, std::int64_t dim, bool log);

// Convolution; algorithms found once per (shapes, params, dtype) and cached; workspace from the
// caching allocator.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ops::Conv2dParams& p);
Tensor conv2d_backward_data(const Tensor& gy, const Tensor& w, const Shape& x_sizes,
                            const ops::Conv2dParams& p);
Tensor conv2d_backward_weight(const Tensor& gy, const Tensor& x, const Shape& w_sizes,
                              const ops::Conv2dParams& p);
Tensor conv2d_backward_bias(const Tensor& gy);  // [O] = Σ_{n,i,j} gy

// Pooling. Max-pool backward in cuDNN needs x and y (it recomputes the arg-max).
Tensor max_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p);
Tensor max_pool2d_backward(const Tensor& gy, const Tensor& x, const Tensor& y, const ops::Pool2dParams& p);
Tensor avg_pool2d_forward(const Tensor& x, const ops::Pool2dParams& p, bool count_include_pad);
Tensor avg_pool2d_backward(const Tensor& gy, const Tensor& x_like, const ops::Pool2dParams& p,
                           bool count_include_pad);
// Adaptive average pooling (own kernel: windows of unequal size are outside cuDNN's pooling).
Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::array<std::int64_t, 2> out);
Tensor adaptive_avg_pool2d_backward(const Tensor& gy, const Shape& x_sizes);

// Batch normalisation over [N, C, H, W] or [N, C] (spatial mode), the tensor layer's contract
// (tensor/batch_norm.h): batch mean and biased variance returned, running stats updated in place
// with the unbiased variance.
ops::BatchNormTrain batch_norm_train(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                     const Tensor& running_mean, const Tensor& running_var,
                                     double momentum, double eps);
Tensor batch_norm_eval(const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Tensor& running_mean, const Tensor& running_var, double eps);
ops::BatchNormGrads batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight,
                                        const Tensor& mean, const Tensor& var, double eps, bool training);

}  // namespace retort::cuda
