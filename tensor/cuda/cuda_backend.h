// The GPU backend's entry points used by the tensor layer. Built from tensor/cuda/*.cu when
// RETORT_WITH_CUDA is ON; otherwise stub.cpp supplies versions that throw a clear error.
#pragma once
#include <cstddef>

namespace retort::cuda {

bool available();                                  // built with CUDA and a device is present
void* allocate(std::size_t nbytes, int device);    // caching allocator
void release(void* p, int device);
void copy_to_device(void* dst, const void* src, std::size_t nbytes, int device);
void copy_to_host(void* dst, const void* src, std::size_t nbytes, int device);

}  // namespace retort::cuda
