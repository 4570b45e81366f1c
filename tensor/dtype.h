// Element types. float32 is the type of the fast paths (oneDNN, CUDA); float64 runs on the
// reference kernels and is what gradcheck uses; int64 holds labels and indices.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/error.h"

namespace retort {

enum class DType : std::uint8_t { Float32, Float64, Int64 };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;

inline std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<std::int64_t> { static constexpr DType value = DType::Int64; };

// Runs f.template operator()<T>() with T = float or double (dispatch_floating) or also int64_t
// (dispatch_all). Prefer these over the macros below when the body holds a #pragma (OpenMP):
// a pragma cannot appear inside a macro argument.
template <class F>
decltype(auto) dispatch_floating(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    default: fail(op, ": expected a floating dtype, got ", dtype_name(dt));
  }
}

template <class F>
decltype(auto) dispatch_all(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    case DType::Int64: return f.template operator()<std::int64_t>();
  }
  fail(op, ": unknown dtype");
}

}  // namespace retort

// RETORT_DISPATCH_FLOATING(dtype, "op", [&]<class T>() { ... }) and RETORT_DISPATCH_ALL: the
// same as dispatch_floating / dispatch_all, as macros (the body must not hold a #pragma).
#define RETORT_DISPATCH_FLOATING(DT, OP, ...) ::retort::dispatch_floating(DT, OP, __VA_ARGS__)
#define RETORT_DISPATCH_ALL(DT, OP, ...) ::retort::dispatch_all(DT, OP, __VA_ARGS__)
