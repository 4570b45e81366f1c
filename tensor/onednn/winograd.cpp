// Winograd F(4x4, 3x3) backward-weights (see winograd.h for the maths). Why this shape of code:
// TeacherNet's 128 → 64 layer spent 54 ms of a 180 ms training step in oneDNN's Winograd
// backward-weights kernel, while the 36 products it needs take 26 ms as one batched oneDNN matmul
// on the same 2 cores. The products want M with t contiguous (the transposed operand costs a
// third more), so the output-gradient transform writes 16 tiles of 16 channels and transposes
// them; the input transform keeps the channels of the nChw16c layout innermost, which is the
// other operand's natural row-major layout. Both transforms are AVX-512 (one register holds the
// 16 channels of a pixel) and run on OpenMP threads, like oneDNN's own kernels. Measured on that
// layer (batch 128): input transform 7 ms, gradient transform 6 ms, products 27 ms, the rest
// under 1 ms: 41 ms against oneDNN's 54; the 64-channel layers at 16x16 gain 1-1.3 ms each.
#include "tensor/onednn/winograd.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "tensor/onednn/common.h"

#include "tensor/onednn/winograd_tiles.h"

namespace retort::onednn {

#if defined(__x86_64__)

namespace {

using namespace winograd;

// Transposes the 16x16 block r[j][o] (j: tile, o: channel) in registers and stores the first
// `count` tiles of channel o at out + o·stride.
RETORT_AVX512 void store_transposed(const float (*rows)[16], float* out, std::int64_t stride,
                                    int count) {
  __m512 r[16], t[16];
  for (int j = 0; j < 16; ++j) r[j] = _mm512_load_ps(rows[j]);
  for (int i = 0; i < 8; ++i) {  // per 128-bit lane: [r2i[0] r2i+1[0] r2i[1] r2i+1[1]], ...
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {  // r[4g + j], lane L: column 4L + j of rows 4g..4g+3
    r[4 * g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1);
  for (int j = 0; j < 4; ++j) {  // gather lane L of r[j], r[4 + j], r[8 + j], r[12 + j]
    const __m512 v0 = _mm512_shuffle_f32x4(r[j], r[4 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512 v1 = _mm512_shuffle_f32x4(r[j], r[4 + j], _MM_SHUFFLE(3, 1, 3, 1));
    const __m512 v2 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512 v3 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
    const __m512 col[4] = {_mm512_shuffle_f32x4(v0, v2, _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_f32x4(v1, v3, _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_f32x4(v0, v2, _MM_SHUFFLE(3, 1, 3, 1)),
                           _mm512_shuffle_f32x4(v1, v3, _MM_SHUFFLE(3, 1, 3, 1))};
    for (int L = 0; L < 4; ++L) {
      float* dst = out + (4 * L + j) * stride;
      if (count == 16)
        put<true>(dst, col[L]);
      else
        _mm512_mask_storeu_ps(dst, mask, col[L]);
    }
  }
}

// M for the 16 channels of block ob, tiles [t0, t0 + count) of the batch. A chunk may span
// images, so that nets whose maps hold one or four tiles (vgg's 4x4 and 8x8 stages) still
// transpose whole 16-tile blocks.
RETORT_AVX512 void gradient_tiles(const float* gy, float* M, const Dims& d, std::int64_t ob,
                                  std::int64_t t0, int count) {
  const std::int64_t per_image = d.TH * d.TW;
  alignas(64) float buf[36][16][16];  // [p][tile][channel]
  for (int j = 0; j < count; ++j) {
    const std::int64_t n = (t0 + j) / per_image, i = (t0 + j) % per_image;
    __m512 m[36];
    gradient_tile(gy + (n * (d.O / 16) + ob) * d.H * d.W * 16, d, i / d.TW, i % d.TW, m);
    for (int p = 0; p < 36; ++p) _mm512_store_ps(buf[p][j], m[p]);
  }
  for (int p = 0; p < 36; ++p)
    store_transposed(buf[p], M + (p * d.O + ob * 16) * d.T + t0, d.T, count);
  _mm_sfence();
}

// r = Gᵀ·u for a 6-vector u (3 values). G's rows: (1/4, 0, 0), -(1, 1, 1)/6, -(1, -1, 1)/6,
// (1/24, 1/12, 1/6), (1/24, -1/12, 1/6), (0, 0, 1).
RETORT_AVX512 inline void gt(const __m512* u, __m512* r) {
  const __m512 s12 = u[1] + u[2], d12 = u[1] - u[2], s34 = u[3] + u[4], d34 = u[3] - u[4];
  r[0] = 0.25f * u[0] - s12 * (1.f / 6) + s34 * (1.f / 24);
  r[1] = d34 * (1.f / 12) - d12 * (1.f / 6);
  r[2] = (s34 - s12) * (1.f / 6) + u[5];
}

// gw[o][c] = Gᵀ·dU[·][o][c]·G and gb[o] = Σ_t M[7][o][t]. Sixteen (o, c) pairs per register: a
// scalar loop here took 12% of vgg13's training step (its 512x512 layers have 262144 pairs).
RETORT_AVX512 void output_weights(const float* dU, const float* M, const Dims& d, float* gw,
                                  float* gb) {
  const std::int64_t OC = d.O * d.C;  // a multiple of 16
#pragma omp parallel for schedule(static)
  for (std::int64_t oc = 0; oc < OC; oc += 16) {
    __m512 h[6][3];  // h[k] = Gᵀ·dU[k][·] (row k of dU·G, transposed)
    for (int k = 0; k < 6; ++k) {
      __m512 u[6];
      for (int l = 0; l < 6; ++l) u[l] = _mm512_loadu_ps(dU + (k * 6 + l) * OC + oc);
      gt(u, h[k]);
    }
    alignas(64) float out[9][16];
    for (int b = 0; b < 3; ++b) {
      const __m512 col[6] = {h[0][b], h[1][b], h[2][b], h[3][b], h[4][b], h[5][b]};
      __m512 r[3];
      gt(col, r);
      for (int a = 0; a < 3; ++a) _mm512_store_ps(out[a * 3 + b], r[a]);
    }
    for (int i = 0; i < 16; ++i)
      for (int j = 0; j < 9; ++j) gw[(oc + i) * 9 + j] = out[j][i];
  }
  if (!gb) return;
#pragma omp parallel for schedule(static)
  for (std::int64_t o = 0; o < d.O; ++o) {
    const float* row = M + (7 * d.O + o) * d.T;
    double s = 0;
    for (std::int64_t t = 0; t < d.T; ++t) s += row[t];
    gb[o] = static_cast<float>(s);
  }
}

struct Products {
  dnnl::matmul prim;
};

// dU[p] = M[p]·V[p] for the 36 p, one batched matmul.
void products(const float* M, const float* V, float* dU, const Dims& d) {
  using dnnl::memory;
  const memory::desc a({36, d.O, d.T}, memory::data_type::f32, memory::format_tag::abc);
  const memory::desc b({36, d.T, d.C}, memory::data_type::f32, memory::format_tag::abc);
  const memory::desc c({36, d.O, d.C}, memory::data_type::f32, memory::format_tag::abc);
  std::string key = "winograd_weights:";
  key_add(key, Shape{d.O, d.T, d.C});
  auto& plan = cached<Products>(key, [&] {
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), engine());
    return Products{dnnl::matmul(pd)};
  });
  plan.prim.execute(stream(), {{DNNL_ARG_SRC, memory(a, engine(), const_cast<float*>(M))},
                               {DNNL_ARG_WEIGHTS, memory(b, engine(), const_cast<float*>(V))},
                               {DNNL_ARG_DST, memory(c, engine(), dU)}});
  stream().wait();
}

}  // namespace

bool winograd_weights_supported(const Shape& x, const Shape& w, const ops::Conv2dParams& p) {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512 && x.size() == 4 && w.size() == 4 && w[2] == 3 && w[3] == 3 && p.groups == 1 &&
         x[1] == w[1] && x[1] % 16 == 0 && w[0] % 16 == 0 &&
         p.stride == std::array<std::int64_t, 2>{1, 1} &&
         p.padding == std::array<std::int64_t, 2>{1, 1} &&
         p.dilation == std::array<std::int64_t, 2>{1, 1};
}

void winograd_backward_weights(const float* x, const float* gy, const Shape& xs, std::int64_t O,
                               float* gw, float* gb, WinogradStrategy strategy) {
  Dims d{xs[0], xs[1], O, xs[2], xs[3], (xs[2] + 3) / 4, (xs[3] + 3) / 4, 0};
  d.T = d.N * d.TH * d.TW;
  Tensor dU = empty({36 * d.O * d.C});
  if (strategy == WinogradStrategy::chunked ||
      (strategy == WinogradStrategy::automatic && chunked_applies(d.C, d.O))) {
    chunked_products(x, gy, d, dU.data<float>(), gb);
    output_weights(dU.data<float>(), nullptr, d, gw, nullptr);
    return;
  }
  Tensor V = empty({36 * d.T * d.C}), M = empty({36 * d.O * d.T});
  float* v = V.data<float>();
  float* m = M.data<float>();
  const std::int64_t OB = d.O / 16, per_image = d.TH * d.TW;
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t n = 0; n < d.N; ++n)
    for (std::int64_t ty = 0; ty < d.TH; ++ty)
      input_tiles<true>(x, v, d, n, ty, d.T * d.C, n * per_image);
  const std::int64_t chunks = (d.T + 15) / 16;
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t k = 0; k < chunks; ++k)
    for (std::int64_t ob = 0; ob < OB; ++ob)
      gradient_tiles(gy, m, d, ob, k * 16,
                     static_cast<int>(std::min<std::int64_t>(16, d.T - k * 16)));
  products(m, v, dU.data<float>(), d);
  output_weights(dU.data<float>(), m, d, gw, gb);
}

#else  // no AVX-512 off x86-64: the dispatch keeps oneDNN's kernel

bool winograd_weights_supported(const Shape&, const Shape&, const ops::Conv2dParams&) {
  return false;
}

void winograd_backward_weights(const float*, const float*, const Shape&, std::int64_t, float*,
                               float*, WinogradStrategy) {
  throw std::logic_error("conv2d winograd backward-weights: needs x86-64 with AVX-512");
}

#endif

}  // namespace retort::onednn
