// A block of memory on one device, shared by a tensor and all of its views.
// CPU blocks are 64-byte aligned (oneDNN and AVX-512 prefer it). CUDA blocks come from the CUDA
// backend's caching allocator; the deleter returns them to it.
#pragma once
#include <cstddef>
#include <functional>
#include <memory>

#include "tensor/device.h"

namespace retort {

class Storage {
 public:
  // Allocates nbytes on device (zero bytes is a valid, empty block).
  Storage(std::size_t nbytes, Device device);
  // Adopts memory owned elsewhere; deleter runs when the last user lets go.
  Storage(void* data, std::size_t nbytes, Device device, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  const Device& device() const { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  std::function<void(void*)> deleter_;
};

}  // namespace retort
