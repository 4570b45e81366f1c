// Internal to the Winograd F(4x4, 3x3) backward-weights (winograd.h, which has the maths): the
// transforms on registers of 16 channels, shared by its two strategies.
//   winograd.cpp          whole-batch tile buffers and one batched oneDNN matmul for the 36
//                         products (layers with many channels);
//   winograd_chunked.cpp  per-thread chunks of a few images whose tiles stay in the cache, the
//                         products summed in registers (layers with few channels, where the
//                         matmul has little arithmetic per byte of tiles).
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#define RETORT_AVX512 __attribute__((target("avx512f")))

// GCC 12's shuffle intrinsics read _mm512_undefined_ps(), which -Wuninitialized reports (GCC bug
// 105593, fixed in GCC 13).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace retort::onednn::winograd {

struct Dims {
  std::int64_t N, C, O, H, W, TH, TW, T;  // T = N·TH·TW tiles
};

// r = Bᵀ·d for a 6-vector d of 16-channel registers.
RETORT_AVX512 inline void bt(const __m512* d, __m512* r) {
  r[0] = 4.f * d[0] - 5.f * d[2] + d[4];
  r[1] = d[3] + d[4] - 4.f * (d[1] + d[2]);
  r[2] = 4.f * (d[1] - d[2]) + d[4] - d[3];
  r[3] = 2.f * (d[3] - d[1]) + d[4] - d[2];
  r[4] = 2.f * (d[1] - d[3]) + d[4] - d[2];
  r[5] = 4.f * d[1] - 5.f * d[3] + d[5];
}

// r = A·y for a 4-vector y (6 values).
RETORT_AVX512 inline void a4(const __m512* y, __m512* r) {
  const __m512 s02 = y[0] + y[2], s13 = y[1] + y[3];
  const __m512 f02 = y[0] + 4.f * y[2], f13 = 2.f * y[1] + 8.f * y[3];
  r[0] = y[0];
  r[1] = s02 + s13;
  r[2] = s02 - s13;
  r[3] = f02 + f13;
  r[4] = f02 - f13;
  r[5] = y[3];
}

// Stores v at p. Stream: past the caches when p is 64-byte aligned (whole-batch tile buffers are
// written once, read once by the products, and larger than the caches); else a plain store (a
// chunk that the products read next while it is still cached).
template <bool Stream>
RETORT_AVX512 inline void put(float* p, __m512 v) {
  if (Stream && (reinterpret_cast<std::uintptr_t>(p) & 63) == 0)
    _mm512_stream_ps(p, v);
  else
    _mm512_storeu_ps(p, v);
}

// m[6k + l] = (A·dy·Aᵀ)[k][l] for the 4x4 output-gradient tile (ty, tx) of the 16 channels of
// plane (zero past H, W).
RETORT_AVX512 inline void gradient_tile(const float* plane, const Dims& d, std::int64_t ty,
                                        std::int64_t tx, __m512* m) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 z[6][4];  // z[k][jj] = (A·dy)[k] for column jj
  for (int jj = 0; jj < 4; ++jj) {
    const std::int64_t s = 4 * tx + jj;
    __m512 col[4], r[6];
    for (int i = 0; i < 4; ++i) {
      const std::int64_t row = 4 * ty + i;
      col[i] = row < d.H && s < d.W ? _mm512_loadu_ps(plane + (row * d.W + s) * 16) : zero;
    }
    a4(col, r);
    for (int k = 0; k < 6; ++k) z[k][jj] = r[k];
  }
  for (int k = 0; k < 6; ++k) a4(z[k], m + 6 * k);
}

// V[p][t][c] for the tiles of tile row ty of image n, all channel blocks (so the 64-byte stores
// into each V[p][t] row are contiguous): t = t0 + ty·TW + tx, V[p] starting at V + p·stride.
template <bool Stream>
RETORT_AVX512 void input_tiles(const float* x, float* V, const Dims& d, std::int64_t n,
                               std::int64_t ty, std::int64_t stride, std::int64_t t0) {
  const __m512 zero = _mm512_setzero_ps();
  for (std::int64_t tx = 0; tx < d.TW; ++tx) {
    const std::int64_t t = t0 + ty * d.TW + tx;
    for (std::int64_t cb = 0; cb < d.C / 16; ++cb) {
      const float* plane = x + (n * (d.C / 16) + cb) * d.H * d.W * 16;
      __m512 e[6][6];  // e[k][j] = (Bᵀ·d)[k] for column j
      for (int j = 0; j < 6; ++j) {
        const std::int64_t s = 4 * tx - 1 + j;
        __m512 col[6], r[6];
        for (int i = 0; i < 6; ++i) {
          const std::int64_t row = 4 * ty - 1 + i;
          col[i] = row >= 0 && row < d.H && s >= 0 && s < d.W
                       ? _mm512_loadu_ps(plane + (row * d.W + s) * 16)
                       : zero;
        }
        bt(col, r);
        for (int k = 0; k < 6; ++k) e[k][j] = r[k];
      }
      for (int k = 0; k < 6; ++k) {
        __m512 v[6];
        bt(e[k], v);
        for (int l = 0; l < 6; ++l) put<Stream>(V + (k * 6 + l) * stride + t * d.C + cb * 16, v[l]);
      }
    }
  }
  if (Stream) _mm_sfence();
}

// Whether chunked_products takes a layer of C input and O output channels.
bool chunked_applies(std::int64_t C, std::int64_t O);

// dU[p][o][c] = Σ_t M[p][o][t]·V[p][t][c] (winograd.h) and, when gb is not null, gb[o], for x
// and gy in nChw16c; the per-thread chunk strategy.
void chunked_products(const float* x, const float* gy, const Dims& d, float* dU, float* gb);

}  // namespace retort::onednn::winograd

#endif
