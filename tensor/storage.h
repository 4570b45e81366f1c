// A block of memory on one device, shared by a tensor and all of its views.
// CPU blocks are 64-byte aligned (oneDNN and AVX-512 prefer it). CUDA blocks come from the CUDA
// backend's caching allocator; the deleter returns them to it.
#pragma once
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

#include "tensor/device.h"

namespace retort {

// A storage's contents held in another layout than the plain one its tensors describe (the
// oneDNN fast paths keep convolution, activation and pooling results in their blocked layouts, so
// the next such op reads them without a reorder). materialize writes the contents in the plain
// layout to `plain`, which has the storage's nbytes.
class AltLayout {
 public:
  virtual ~AltLayout() = default;
  virtual void materialize(void* plain) const = 0;
};

class Storage {
 public:
  // Allocates nbytes on device (zero bytes is a valid, empty block).
  Storage(std::size_t nbytes, Device device);
  // Adopts memory owned elsewhere; deleter runs when the last user lets go.
  Storage(void* data, std::size_t nbytes, Device device, std::function<void(void*)> deleter);
  // A CPU block whose contents are alt's: the plain bytes are neither allocated nor written until
  // the first data() call, which writes them and drops alt (its caller may write through the
  // pointer, after which alt would be stale). Until then alt() hands the contents to fast paths.
  Storage(std::size_t nbytes, std::shared_ptr<const AltLayout> alt);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return pending_.load(std::memory_order_acquire) ? materialize() : data_; }
  // The contents in the other layout while the plain bytes are unwritten, else null.
  std::shared_ptr<const AltLayout> alt() const;
  std::size_t nbytes() const { return nbytes_; }
  const Device& device() const { return device_; }

 private:
  void* materialize() const;

  mutable void* data_ = nullptr;
  std::size_t nbytes_ = 0;
  Device device_;
  std::function<void(void*)> deleter_;
  mutable std::shared_ptr<const AltLayout> alt_;
  mutable std::atomic<bool> pending_{false};
  mutable std::mutex mu_;
};

}  // namespace retort
