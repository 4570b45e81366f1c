// Device math for the CUDA kernels (included by the .cu sources only): the float/double overloads
// of the math library by name, and arithmetic that is never contracted into a fused multiply-add.
// nvcc fuses a·b + c by default, the cpu build (ISO C++, no -march) never does; the optimizer
// updates and add_scaled_ use the *_rn forms so the two agree bit for bit where the cpu does.
#pragma once
#include <cstdint>

namespace retort::cuda {

__device__ inline float dexp(float v) { return expf(v); }
__device__ inline double dexp(double v) { return exp(v); }
__device__ inline float dlog(float v) { return logf(v); }
__device__ inline double dlog(double v) { return log(v); }
__device__ inline float dsqrt(float v) { return sqrtf(v); }
__device__ inline double dsqrt(double v) { return sqrt(v); }
__device__ inline float dtanh(float v) { return tanhf(v); }
__device__ inline double dtanh(double v) { return tanh(v); }

__device__ inline float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ inline double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ inline std::int64_t add_rn(std::int64_t a, std::int64_t b) { return a + b; }
__device__ inline float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ inline std::int64_t mul_rn(std::int64_t a, std::int64_t b) { return a * b; }
__device__ inline float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ inline double div_rn(double a, double b) { return __ddiv_rn(a, b); }
__device__ inline float sqrt_rn(float v) { return __fsqrt_rn(v); }
__device__ inline double sqrt_rn(double v) { return __dsqrt_rn(v); }

}  // namespace retort::cuda
