// Winograd backward-weights for layers with few channels (winograd_tiles.h). Why: wrn_40_2's
// 32 → 32 layers at 32x32 (batch 64) took 7.8-8.3 ms per call at 1 thread in the whole-batch
// strategy: the transforms write 19 MB of tiles each for x and gy, the output gradient's in a
// transposed layout, and the batched matmul reads them back for little arithmetic per byte
// (32 x 32 products). Here each thread transforms a few images at a time into buffers that stay
// in its cache and adds their products into a thread-private [36][C][O] sum, a 16x16 block in
// registers at a time; the output gradient's tiles keep their channels innermost, like the
// input's, so nothing is transposed. That layer: 5.3-6.4 ms at 1 thread, 2.5-4.1 ms at 2 (the
// whole-batch strategy 3.9-4.9 ms; bench runs alternated on a shared machine).
#include <omp.h>

#include <algorithm>
#include <vector>

#include "tensor/onednn/winograd_tiles.h"
#include "tensor/tensor.h"

#if defined(__x86_64__)

namespace retort::onednn::winograd {

namespace {

// Tiles per chunk (whole images): V and M of a chunk are 36·64·(C + O) floats, 590 KB at
// C = O = 32, about one core's L2.
constexpr std::int64_t kChunkTiles = 64;

// M[p][t][o] for the tiles of tile row ty of image n, t = t0 + ty·TW + tx, M[p] starting at
// M + p·stride.
RETORT_AVX512 void gradient_tiles(const float* gy, float* M, const Dims& d, std::int64_t n,
                                  std::int64_t ty, std::int64_t stride, std::int64_t t0) {
  for (std::int64_t tx = 0; tx < d.TW; ++tx) {
    const std::int64_t t = t0 + ty * d.TW + tx;
    for (std::int64_t ob = 0; ob < d.O / 16; ++ob) {
      __m512 m[36];
      gradient_tile(gy + (n * (d.O / 16) + ob) * d.H * d.W * 16, d, ty, tx, m);
      for (int p = 0; p < 36; ++p) _mm512_storeu_ps(M + p * stride + t * d.O + ob * 16, m[p]);
    }
  }
}

// U[p][c][o] += Σ_t V[p][t][c]·M[p][t][o] over a chunk of T tiles (V[p] and M[p] at p·vs and
// p·ms), a 16x16 block of U in 16 registers (one per c, lanes o) at a time.
RETORT_AVX512 void add_products(const float* V, std::int64_t vs, const float* M, std::int64_t ms,
                                float* U, const Dims& d, std::int64_t T) {
  for (int p = 0; p < 36; ++p) {
    const float* Vp = V + p * vs;
    const float* Mp = M + p * ms;
    float* Up = U + p * d.C * d.O;
    for (std::int64_t ob = 0; ob < d.O; ob += 16)
      for (std::int64_t cb = 0; cb < d.C; cb += 16) {
        __m512 acc[16];
        for (int i = 0; i < 16; ++i) acc[i] = _mm512_loadu_ps(Up + (cb + i) * d.O + ob);
        for (std::int64_t t = 0; t < T; ++t) {
          const __m512 m = _mm512_loadu_ps(Mp + t * d.O + ob);
          const float* v = Vp + t * d.C + cb;
          for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(v[i]), m, acc[i]);
        }
        for (int i = 0; i < 16; ++i) _mm512_storeu_ps(Up + (cb + i) * d.O + ob, acc[i]);
      }
  }
}

}  // namespace

// Measured against the whole-batch strategy at 1 and 2 threads, batch 64: chunks win up to 96 x 96
// channels (1.1-1.4x; the teacher's 128 -> 64 layer 1.15x) and lose from 128 x 128 on small maps
// and 256 x 256 on (0.5-0.8x: the thread-private sums outgrow the cache).
bool chunked_applies(std::int64_t C, std::int64_t O) { return C * O <= 96 * 96; }

void chunked_products(const float* x, const float* gy, const Dims& d, float* dU, float* gb) {
  const std::int64_t per_image = d.TH * d.TW;
  const std::int64_t images = std::max<std::int64_t>(1, kChunkTiles / per_image);
  const std::int64_t chunks = (d.N + images - 1) / images, U = 36 * d.C * d.O;
  const int threads = omp_get_max_threads();
  Tensor sums = zeros({threads * U});
  std::vector<double> bias(static_cast<std::size_t>(threads * d.O), 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int id = omp_get_thread_num();
    float* Ut = sums.data<float>() + id * U;
    double* bias_t = bias.data() + id * d.O;
    // One cache line past a multiple of 4 KiB between the 36 rows: rows 4 KiB apart share L1 sets,
    // and the transforms write all 36 at once.
    const std::int64_t vs = images * per_image * d.C + 16, ms = images * per_image * d.O + 16;
    Tensor V = empty({36 * vs}), M = empty({36 * ms});
    float* v = V.data<float>();
    float* m = M.data<float>();
#pragma omp for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) {
      const std::int64_t n0 = c * images, n1 = std::min(d.N, n0 + images);
      const std::int64_t T = (n1 - n0) * per_image;
      for (std::int64_t n = n0; n < n1; ++n)
        for (std::int64_t ty = 0; ty < d.TH; ++ty) {
          input_tiles<false>(x, v, d, n, ty, vs, (n - n0) * per_image);
          gradient_tiles(gy, m, d, n, ty, ms, (n - n0) * per_image);
        }
      add_products(v, vs, m, ms, Ut, d, T);
      if (gb)  // row 1 of A is all ones: M[7] sums each 4x4 tile
        for (std::int64_t t = 0; t < T; ++t)
          for (std::int64_t o = 0; o < d.O; ++o) bias_t[o] += m[7 * ms + t * d.O + o];
    }
  }
  const float* s = sums.data<float>();
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t p = 0; p < 36; ++p)
    for (std::int64_t o = 0; o < d.O; ++o)
      for (std::int64_t c = 0; c < d.C; ++c) {
        float sum = 0;
        for (int id = 0; id < threads; ++id) sum += s[id * U + (p * d.C + c) * d.O + o];
        dU[(p * d.O + o) * d.C + c] = sum;
      }
  if (!gb) return;
  for (std::int64_t o = 0; o < d.O; ++o) {
    double sum = 0;
    for (int id = 0; id < threads; ++id) sum += bias[static_cast<std::size_t>(id * d.O + o)];
    gb[o] = static_cast<float>(sum);
  }
}

}  // namespace retort::onednn::winograd

#endif
