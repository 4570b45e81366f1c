// For the [cuda] tests (tests/cuda/, compiled only in a CUDA build): each test case starts with
// RETORT_REQUIRE_GPU(), which WARNs "no CUDA device" and returns when the machine has no GPU,
// so the CUDA build's test suite also runs (and passes vacuously, visibly) on a GPU-less machine.
#pragma once
#include <catch2/catch.hpp>

#include "tensor/cuda/cuda_backend.h"
#include "tensor/tensor.h"

#define RETORT_REQUIRE_GPU()                 \
  do {                                       \
    if (!::retort::cuda::available()) {      \
      WARN("no CUDA device");                \
      return;                                \
    }                                        \
  } while (0)

namespace retort::testing {
inline const Device kCuda{DeviceType::CUDA, 0};
}  // namespace retort::testing
