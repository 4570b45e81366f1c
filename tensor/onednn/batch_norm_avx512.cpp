// Why a kernel of our own beside oneDNN's bnorm_jit: in the zoo's training steps (2 threads) the
// blocked batch norm took about a fifth of ShuffleNetV2's step and a quarter of MobileNetV2's.
// oneDNN 2.6's kernel reads the activation three times in the training forward (mean, variance,
// normalise); here the statistics are one pass (sums of x − k and (x − k)²) and the normalisation
// a second, and the backward is likewise two passes. Both split the work by images first, as the
// convolutions that write these activations do. The A/B numbers are in docs/performance.md.
//
// Each thread sums its (image, block) pairs in float32 registers over one image's pixels and
// adds them into its own float64 row; the rows are added per channel afterwards, so the result
// depends on the thread count but not on scheduling.
#include "tensor/onednn/batch_norm_avx512.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/onednn/winograd_tiles.h"

namespace retort::onednn {

namespace {

// Lanes of block cb that are real channels (the rest are padding).
__mmask16 valid_lanes(std::int64_t cb, std::int64_t C) {
  const std::int64_t n = std::min<std::int64_t>(16, C - cb * 16);
  return static_cast<__mmask16>((1u << n) - 1u);
}

// d (masked by mk's bits when mk is set) for pixel i.
RETORT_AVX512 inline __m512 masked_load(const float* d, const std::uint16_t* mk, std::int64_t i) {
  return mk ? _mm512_maskz_loadu_ps(mk[i], d + i * 16) : _mm512_loadu_ps(d + i * 16);
}

// P[l] += Σ_i a_i,  P[16 + l] += Σ_i a_i·b_i over one image's HW pixels of a block, where
// a_i = x_i − k (forward) or the masked gradient (backward, then b_i = x_i − μ).
RETORT_AVX512 void sums_block(const float* x, const float* d, const std::uint16_t* mk,
                              const float* kp, std::int64_t HW, double* P) {
  const __m512 k = _mm512_loadu_ps(kp);
  // Two accumulator pairs, so consecutive pixels do not wait on one add's latency.
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, q0 = s0, q1 = s0;
  std::int64_t i = 0;
  for (; i + 1 < HW; i += 2) {
    const __m512 b0 = _mm512_sub_ps(_mm512_loadu_ps(x + i * 16), k);
    const __m512 b1 = _mm512_sub_ps(_mm512_loadu_ps(x + i * 16 + 16), k);
    const __m512 a0 = d ? masked_load(d, mk, i) : b0, a1 = d ? masked_load(d, mk, i + 1) : b1;
    s0 = _mm512_add_ps(s0, a0);
    q0 = _mm512_fmadd_ps(a0, b0, q0);
    s1 = _mm512_add_ps(s1, a1);
    q1 = _mm512_fmadd_ps(a1, b1, q1);
  }
  if (i < HW) {
    const __m512 b0 = _mm512_sub_ps(_mm512_loadu_ps(x + i * 16), k);
    const __m512 a0 = d ? masked_load(d, mk, i) : b0;
    s0 = _mm512_add_ps(s0, a0);
    q0 = _mm512_fmadd_ps(a0, b0, q0);
  }
  alignas(64) float sv[16], qv[16];
  _mm512_store_ps(sv, _mm512_add_ps(s0, s1));
  _mm512_store_ps(qv, _mm512_add_ps(q0, q1));
  for (int l = 0; l < 16; ++l) {
    P[l] += sv[l];
    P[16 + l] += qv[l];
  }
}

// y = a·x + b per lane (padding lanes zero), relu'd with its bits in mk when mk is set.
RETORT_AVX512 void normalise_block(const float* x, float* y, std::uint16_t* mk, const float* ap,
                                   const float* bp, __mmask16 valid, std::int64_t HW) {
  const __m512 a = _mm512_loadu_ps(ap), b = _mm512_loadu_ps(bp), zero = _mm512_setzero_ps();
  for (std::int64_t i = 0; i < HW; ++i) {
    const __m512 v = _mm512_fmadd_ps(_mm512_loadu_ps(x + i * 16), a, b);
    __mmask16 keep = valid;
    if (mk) {
      keep = _mm512_mask_cmp_ps_mask(valid, v, zero, _CMP_GT_OQ);
      mk[i] = keep;
    }
    _mm512_storeu_ps(y + i * 16, _mm512_maskz_mov_ps(keep, v));
  }
}

// dx = a·d + b·x + c per lane (padding lanes zero).
RETORT_AVX512 void gradient_block(const float* x, const float* d, const std::uint16_t* mk,
                                  float* dx, const float* ap, const float* bp, const float* cp,
                                  __mmask16 valid, std::int64_t HW) {
  const __m512 a = _mm512_loadu_ps(ap), b = _mm512_loadu_ps(bp), c = _mm512_loadu_ps(cp);
  for (std::int64_t i = 0; i < HW; ++i) {
    const __m512 v = _mm512_fmadd_ps(masked_load(d, mk, i), a,
                                     _mm512_fmadd_ps(_mm512_loadu_ps(x + i * 16), b, c));
    _mm512_storeu_ps(dx + i * 16, _mm512_maskz_mov_ps(valid, v));
  }
}

// Per-channel sums (s_c, q_c) of sums_block over all images; k holds 16·CB shifts.
struct Sums {
  std::vector<double> s, q;
};
Sums channel_sums(const float* x, const float* d, const std::uint16_t* mk,
                  const std::vector<float>& k, std::int64_t N, std::int64_t CB, std::int64_t HW) {
  const int threads = omp_get_max_threads();
  std::vector<double> rows(static_cast<std::size_t>(threads) * CB * 32, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double* P = rows.data() + static_cast<std::size_t>(omp_get_thread_num()) * CB * 32;
#pragma omp for collapse(2) schedule(static)
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t cb = 0; cb < CB; ++cb) {
        const std::int64_t off = (n * CB + cb) * HW * 16;
        sums_block(x + off, d ? d + off : nullptr, mk ? mk + off / 16 : nullptr, &k[cb * 16], HW,
                   P + cb * 32);
      }
  }
  Sums r{std::vector<double>(CB * 16, 0.0), std::vector<double>(CB * 16, 0.0)};
  for (int t = 0; t < threads; ++t)
    for (std::int64_t c = 0; c < CB * 16; ++c) {
      const double* P = rows.data() + (static_cast<std::size_t>(t) * CB + c / 16) * 32;
      r.s[c] += P[c % 16];
      r.q[c] += P[16 + c % 16];
    }
  return r;
}

}  // namespace

bool batch_norm16_supported() {
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  return avx512;
}

std::int64_t batch_norm16_mask_words(std::int64_t N, std::int64_t C, std::int64_t HW) {
  return N * ((C + 15) / 16) * HW;
}

void batch_norm16_forward_training(const float* x, const float* weight, const float* bias,
                                   float* y, std::uint16_t* mask, float* mean, float* var,
                                   std::int64_t N, std::int64_t C, std::int64_t HW, double eps) {
  const std::int64_t CB = (C + 15) / 16;
  // The shift k: the channel's first value, so the sums are of x − k, close to x − μ.
  std::vector<float> k(CB * 16, 0.f);
  for (std::int64_t c = 0; c < C; ++c) k[c] = x[(c / 16) * HW * 16 + c % 16];
  const Sums sums = channel_sums(x, nullptr, nullptr, k, N, CB, HW);
  const double m = static_cast<double>(N) * HW;
  std::vector<float> a(CB * 16, 0.f), b(CB * 16, 0.f);
  for (std::int64_t c = 0; c < C; ++c) {
    const double d = sums.s[c] / m, v = std::max(0.0, sums.q[c] / m - d * d), mu = k[c] + d;
    const double s = weight[c] / std::sqrt(v + eps);
    mean[c] = static_cast<float>(mu);
    var[c] = static_cast<float>(v);
    a[c] = static_cast<float>(s);
    b[c] = static_cast<float>(bias[c] - mu * s);
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t cb = 0; cb < CB; ++cb) {
      const std::int64_t off = (n * CB + cb) * HW * 16;
      normalise_block(x + off, y + off, mask ? mask + off / 16 : nullptr, &a[cb * 16],
                      &b[cb * 16], valid_lanes(cb, C), HW);
    }
}

void batch_norm16_backward(const float* x, const float* dy, const std::uint16_t* mask,
                           const float* weight, const float* mean, const float* var, float* dx,
                           float* dweight, float* dbias, std::int64_t N, std::int64_t C,
                           std::int64_t HW, double eps) {
  const std::int64_t CB = (C + 15) / 16;
  std::vector<float> mu(CB * 16, 0.f);
  std::copy(mean, mean + C, mu.begin());
  const Sums sums = channel_sums(x, dy, mask, mu, N, CB, HW);
  const double m = static_cast<double>(N) * HW;
  // dx = s·d − s·dβ/m − s·x̂·dγ/m = a·d + b·x + c with x̂ = (x − μ)/σ̂.
  std::vector<float> a(CB * 16, 0.f), b(CB * 16, 0.f), c(CB * 16, 0.f);
  for (std::int64_t ch = 0; ch < C; ++ch) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[ch]) + eps);
    const double s = weight[ch] * inv, gbeta = sums.s[ch], ggamma = sums.q[ch] * inv;
    dbias[ch] = static_cast<float>(gbeta);
    dweight[ch] = static_cast<float>(ggamma);
    const double bx = -s * ggamma * inv / m;
    a[ch] = static_cast<float>(s);
    b[ch] = static_cast<float>(bx);
    c[ch] = static_cast<float>(-s * gbeta / m - bx * mean[ch]);
  }
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t cb = 0; cb < CB; ++cb) {
      const std::int64_t off = (n * CB + cb) * HW * 16;
      gradient_block(x + off, dy + off, mask ? mask + off / 16 : nullptr, dx + off, &a[cb * 16],
                     &b[cb * 16], &c[cb * 16], valid_lanes(cb, C), HW);
    }
}

}  // namespace retort::onednn
