// Storage allocation. The CPU path uses the caching allocator (cpu/allocator.h); CUDA goes through the backend
// (tensor/cuda), which throws a clear error when Retort was built without CUDA.
#include "tensor/storage.h"

#include <new>

#include "tensor/cpu/allocator.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/device.h"
#include "tensor/error.h"

namespace retort {

Storage::Storage(std::size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cpu()) {
    data_ = cpu::allocate(nbytes);
    deleter_ = [nbytes](void* p) { cpu::release(p, nbytes); };
  } else {
    data_ = cuda::allocate(nbytes, device.index);
    deleter_ = [idx = device.index](void* p) { cuda::release(p, idx); };
  }
}

Storage::Storage(void* data, std::size_t nbytes, Device device, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), device_(device), deleter_(std::move(deleter)) {}

Storage::Storage(std::size_t nbytes, std::shared_ptr<const AltLayout> alt)
    : nbytes_(nbytes),
      device_(kCPU),
      deleter_([nbytes](void* p) { cpu::release(p, nbytes); }),
      alt_(std::move(alt)),
      pending_(alt_ != nullptr) {}

// The lock makes concurrent first readers wait for one writer; the release store publishes data_
// to the lock-free check in data().
void* Storage::materialize() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.load(std::memory_order_relaxed)) {
    void* p = cpu::allocate(nbytes_);
    try {
      alt_->materialize(p);
    } catch (...) {
      cpu::release(p, nbytes_);
      throw;
    }
    data_ = p;
    alt_.reset();
    pending_.store(false, std::memory_order_release);
  }
  return data_;
}

std::shared_ptr<const AltLayout> Storage::alt() const {
  if (!pending_.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  return alt_;
}

Storage::~Storage() {
  if (deleter_ && data_) deleter_(data_);
}

Device::Device(const std::string& spec) {
  if (spec == "cpu") {
    type = DeviceType::CPU;
  } else if (spec.rfind("cuda", 0) == 0) {
    type = DeviceType::CUDA;
    index = 0;
    if (spec.size() > 5 && spec[4] == ':') index = std::stoi(spec.substr(5));
    else RETORT_CHECK(spec.size() == 4, "Device: cannot parse '", spec, "'");
  } else {
    fail("Device: cannot parse '", spec, "' (expected cpu, cuda or cuda:N)");
  }
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

}  // namespace retort
