// Reductions (ops.h). The input is viewed with its kept dims first and its reduced dims last, and
// packed by copy_ when that view is not already packed, so every reduction is one over the rows
// of a [rows, R] matrix; the output's row-major order is the kept dims' order. Then, per row:
//   R ≤ kSerialMax   one thread walks the row in order (many short rows: class scores, losses);
//   otherwise        a block strides over the row, one state per thread, merged by a
//                    shared-memory tree; when there are few long rows each row is split over
//                    several blocks whose states a second kernel merges (a whole-tensor sum).
// The per-element arithmetic is the cpu reference's (tensor/cpu/reduce_ops.h): float32 sums
// accumulate in double; var is Welford's update with Chan's merge; logsumexp rescales online as
// the maximum grows; max/min take the first index of the extreme and the first NaN. Merges are
// order-independent (ties go to the lower index), so the tree order never changes which index wins.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "tensor/cuda/common.h"
#include "tensor/cuda/ops.h"
#include "tensor/cuda/reduce_ops.cuh"
#include "tensor/reduce.h"

namespace retort::cuda {

namespace {

constexpr std::int64_t kSerialMax = 16;        // rows this short: one thread per row
constexpr std::int64_t kTargetBlocks = 1024;   // enough blocks to fill an H100/H200 several times
constexpr std::int64_t kSplitMin = 4096;       // elements per block before a row is split
constexpr std::int64_t kMaxGrid = 65535LL * 16;

// Merges every thread's state into the one all threads return (blockDim.x a power of two).
template <class Op>
__device__ typename Op::Acc block_combine(const Op& op, typename Op::Acc a) {
  using Acc = typename Op::Acc;
  extern __shared__ __align__(16) unsigned char smem[];
  Acc* sh = reinterpret_cast<Acc*>(smem);
  sh[threadIdx.x] = a;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) op.combine(sh[threadIdx.x], sh[threadIdx.x + s]);
    __syncthreads();
  }
  return sh[0];
}

template <class T, class Op>
__global__ void reduce_rows_serial(const T* in, std::int64_t rows, std::int64_t R, Op op) {
  const std::int64_t step = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
  for (std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; row < rows;
       row += step) {
    typename Op::Acc a = op.init();
    const T* x = in + row * R;
    for (std::int64_t r = 0; r < R; ++r) op.step(a, x[r], r);
    op.finish(a, R, row);
  }
}

// Job j = (row, split) reduces elements [split·chunk, min(R, (split+1)·chunk)) of its row; with
// one split it writes the result, otherwise its state to partial[j].
template <class T, class Op>
__global__ void reduce_rows(const T* in, std::int64_t rows, std::int64_t R, std::int64_t splits,
                            std::int64_t chunk, typename Op::Acc* partial, Op op) {
  const std::int64_t jobs = rows * splits;
  for (std::int64_t job = blockIdx.x; job < jobs; job += gridDim.x) {  // uniform per block
    const std::int64_t row = job / splits, r0 = (job % splits) * chunk;
    const std::int64_t r1 = R < r0 + chunk ? R : r0 + chunk;
    const T* x = in + row * R;
    typename Op::Acc a = op.init();
    for (std::int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) op.step(a, x[r], r);
    a = block_combine(op, a);
    if (threadIdx.x == 0) {
      if (splits == 1) op.finish(a, R, row);
      else partial[job] = a;
    }
    __syncthreads();  // the shared states are rewritten by the next job
  }
}

template <class Op>
__global__ void reduce_partials(const typename Op::Acc* partial, std::int64_t rows, std::int64_t splits,
                                std::int64_t R, Op op) {
  for (std::int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    typename Op::Acc a = op.init();
    for (std::int64_t s = threadIdx.x; s < splits; s += blockDim.x) op.combine(a, partial[row * splits + s]);
    a = block_combine(op, a);
    if (threadIdx.x == 0) op.finish(a, R, row);
    __syncthreads();
  }
}

unsigned pow2_threads(std::int64_t work) {
  unsigned t = 32;
  while (t < static_cast<unsigned>(kThreads) && static_cast<std::int64_t>(t) < work) t *= 2;
  return t;
}

unsigned grid_for(std::int64_t jobs) { return static_cast<unsigned>(jobs < kMaxGrid ? jobs : kMaxGrid); }

// Runs op over the rows of the packed [rows, R] input.
template <class T, class Op>
void run_rows(const Tensor& packed, std::int64_t rows, std::int64_t R, const Op& op, const char* name) {
  using Acc = typename Op::Acc;
  if (rows == 0) return;
  const T* in = ptr<T>(packed);
  if (R <= kSerialMax) {
    reduce_rows_serial<T, Op><<<blocks_for(rows), kThreads, 0, stream()>>>(in, rows, R, op);
    RETORT_CUDA_LAUNCH(name);
    return;
  }
  std::int64_t splits = 1;
  if (rows < kTargetBlocks && R > kSplitMin) {
    const std::int64_t by_size = (R + kSplitMin - 1) / kSplitMin;
    const std::int64_t by_fill = (kTargetBlocks + rows - 1) / rows;
    splits = by_size < by_fill ? by_size : by_fill;
  }
  const std::int64_t chunk = (R + splits - 1) / splits;
  splits = (R + chunk - 1) / chunk;
  const unsigned threads = pow2_threads(chunk);
  if (splits == 1) {
    reduce_rows<T, Op><<<grid_for(rows), threads, threads * sizeof(Acc), stream()>>>(in, rows, R, 1, R,
                                                                                     nullptr, op);
    RETORT_CUDA_LAUNCH(name);
    return;
  }
  Workspace partial(static_cast<std::size_t>(rows * splits) * sizeof(Acc), packed.device().index);
  Acc* part = static_cast<Acc*>(partial.get());
  reduce_rows<T, Op><<<grid_for(rows * splits), threads, threads * sizeof(Acc), stream()>>>(
      in, rows, R, splits, chunk, part, op);
  RETORT_CUDA_LAUNCH(name);
  const unsigned t2 = pow2_threads(splits);
  reduce_partials<Op><<<grid_for(rows), t2, t2 * sizeof(Acc), stream()>>>(part, rows, splits, R, op);
  RETORT_CUDA_LAUNCH(name);
}

struct Plan {
  Tensor packed;            // [kept..., reduced...], packed
  std::int64_t rows = 1;    // product of the kept sizes
  std::int64_t R = 1;       // product of the reduced sizes
  Shape out_shape;
};

// dims as the cpu's plan_reduce reads them: negative from the end, empty = all, duplicates an
// error, a 0-d tensor reduces to itself over dim 0 / −1.
Plan plan(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim, const char* op) {
  check_cuda_tensor(x, op, "input");
  const std::int64_t nd = x.dim();
  std::vector<bool> red(static_cast<std::size_t>(nd), dims.empty());
  for (std::int64_t d : dims) {
    const int w = wrap_dim(d, nd, op);
    if (nd == 0) continue;
    RETORT_CHECK(!red[w], op, ": dim ", d, " appears more than once in the dims of ", shape_str(x.sizes()));
    red[w] = true;
  }
  Plan p;
  Shape sizes, strides;
  for (std::int64_t d = 0; d < nd; ++d) {
    if (red[d]) {
      if (keepdim) p.out_shape.push_back(1);
      continue;
    }
    p.out_shape.push_back(x.size(d));
    sizes.push_back(x.size(d));
    strides.push_back(x.stride(d));
    p.rows *= x.size(d);
  }
  for (std::int64_t d = 0; d < nd; ++d) {
    if (!red[d]) continue;
    sizes.push_back(x.size(d));
    strides.push_back(x.stride(d));
    p.R *= x.size(d);
  }
  Tensor view = as_strided(x, sizes, strides, x.offset());
  if (view.is_contiguous()) {
    p.packed = view;
  } else {
    p.packed = empty(sizes, x.dtype(), x.device());
    copy_(p.packed, view);
  }
  return p;
}

}  // namespace

Tensor reduce(Reduce kind, const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim,
              double p, const char* op) {
  check_cuda_tensor(x, op, "input");
  RETORT_CHECK(kind == Reduce::Sum || is_floating(x.dtype()), op, ": expected a floating dtype, got ",
               dtype_name(x.dtype()));
  DeviceGuard guard(x);
  Plan pl = plan(x, dims, keepdim, op);
  Tensor out = empty(pl.out_shape, x.dtype(), x.device());
  dispatch_all(x.dtype(), op, [&]<class T>() {
    T* o = ptr<T>(out);
    switch (kind) {
      case Reduce::Sum: return run_rows<T>(pl.packed, pl.rows, pl.R, SumOp<T>{o, false}, op);
      case Reduce::Mean: return run_rows<T>(pl.packed, pl.rows, pl.R, SumOp<T>{o, true}, op);
      default: break;
    }
    if constexpr (std::is_floating_point_v<T>) {
      switch (kind) {
        case Reduce::Var: return run_rows<T>(pl.packed, pl.rows, pl.R, VarOp<T>{o, p}, op);
        case Reduce::LogSumExp: return run_rows<T>(pl.packed, pl.rows, pl.R, LogSumExpOp<T>{o}, op);
        case Reduce::Norm: return run_rows<T>(pl.packed, pl.rows, pl.R, NormOp<T>{o, p}, op);
        default: break;
      }
    }
  });
  return out;
}

ops::ValuesIndices extreme(const Tensor& x, const std::vector<std::int64_t>& dims, bool keepdim,
                           bool is_max, bool want_values, bool want_indices, const char* op) {
  check_cuda_tensor(x, op, "input");
  DeviceGuard guard(x);
  Plan pl = plan(x, dims, keepdim, op);
  RETORT_CHECK(pl.R > 0, op, ": cannot reduce an empty extent of ", shape_str(x.sizes()));
  ops::ValuesIndices r;
  if (want_values) r.values = empty(pl.out_shape, x.dtype(), x.device());
  if (want_indices) r.indices = empty(pl.out_shape, kInt64, x.device());
  std::int64_t* idx = want_indices ? ptr<std::int64_t>(r.indices) : nullptr;
  dispatch_all(x.dtype(), op, [&]<class T>() {
    T* v = want_values ? ptr<T>(r.values) : nullptr;
    if (is_max) run_rows<T>(pl.packed, pl.rows, pl.R, ExtremeOp<T, true>{v, idx}, op);
    else run_rows<T>(pl.packed, pl.rows, pl.R, ExtremeOp<T, false>{v, idx}, op);
  });
  return r;
}

}  // namespace retort::cuda
