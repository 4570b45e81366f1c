// The caching device allocator. cudaMalloc and cudaFree synchronise the device and cost tens of
// microseconds each, far more than a small kernel, so freed blocks are kept and reused:
//   - sizes are rounded up (512 B steps below 1 MiB, 2 MiB steps above) so the same activation
//     and gradient sizes of every training step land in the same size class;
//   - a request takes the smallest cached block of at least its class and at most twice it
//     (bounded waste), else calls cudaMalloc;
//   - when cudaMalloc runs out of memory, every cached block of that device is freed and the
//     call retried once before the error (naming the request and the memory in use) is raised.
// Reuse without waiting is safe because the backend runs everything on one stream per device:
// a kernel that reads a freed block was queued before any kernel that can see it reused.
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tensor/cuda/common.h"
#include "tensor/cuda/cuda_backend.h"
#include "tensor/error.h"

namespace retort::cuda {

namespace {

constexpr std::size_t kSmallStep = 512;
constexpr std::size_t kLargeStep = std::size_t{2} << 20;
constexpr std::size_t kLargeFrom = std::size_t{1} << 20;

std::size_t round_size(std::size_t n) {
  if (n == 0) n = 1;
  const std::size_t step = n < kLargeFrom ? kSmallStep : kLargeStep;
  return (n + step - 1) / step * step;
}

struct Pool {
  std::mutex mu;
  std::map<int, std::multimap<std::size_t, void*>> free;  // device → size → block
  std::unordered_map<void*, std::size_t> live;            // block → size
  MemoryStats stats;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: tensors may be freed during static teardown
  return *p;
}

void free_cached(Pool& p, int device) {
  auto it = p.free.find(device);
  if (it == p.free.end()) return;
  cudaSetDevice(device);
  cudaDeviceSynchronize();
  for (auto& [size, block] : it->second) {
    cudaFree(block);
    p.stats.cached -= size;
  }
  it->second.clear();
}

}  // namespace

void* allocate(std::size_t nbytes, int device) {
  Pool& p = pool();
  const std::size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(p.mu);
  auto& bucket = p.free[device];
  auto it = bucket.lower_bound(size);
  void* block = nullptr;
  std::size_t got = size;
  if (it != bucket.end() && it->first <= 2 * size) {
    block = it->second;
    got = it->first;
    bucket.erase(it);
    p.stats.cached -= got;
  } else {
    RETORT_CUDA(cudaSetDevice(device), "cuda::allocate");
    cudaError_t st = cudaMalloc(&block, size);
    if (st == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      free_cached(p, device);
      st = cudaMalloc(&block, size);
    }
    if (st != cudaSuccess) {
      cudaGetLastError();
      fail("cuda::allocate: cannot allocate ", size, " bytes on cuda:", device, " (",
           cudaGetErrorString(st), "); ", p.stats.allocated, " bytes are in live tensors");
    }
    ++p.stats.device_mallocs;
  }
  p.live[block] = got;
  p.stats.allocated += got;
  if (p.stats.allocated > p.stats.peak_allocated) p.stats.peak_allocated = p.stats.allocated;
  return block;
}

void release(void* block, int device) {
  if (!block) return;
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  auto it = p.live.find(block);
  if (it == p.live.end()) return;  // not ours: never hand a foreign pointer to cudaFree
  const std::size_t size = it->second;
  p.live.erase(it);
  p.stats.allocated -= size;
  p.stats.cached += size;
  p.free[device].emplace(size, block);
}

void empty_cache() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  std::vector<int> devs;
  for (auto& [d, b] : p.free) devs.push_back(d);
  for (int d : devs) free_cached(p, d);
}

MemoryStats memory_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  return p.stats;
}

void reset_peak_memory() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  p.stats.peak_allocated = p.stats.allocated;
}

}  // namespace retort::cuda
