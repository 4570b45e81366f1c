// Caching CPU allocator (see allocator.h). The cache is bounded: when holding a released block
// would exceed kMaxCached, the block is freed instead, so peak memory stays near the working set.
#include "tensor/cpu/allocator.h"

#include <atomic>
#include <map>
#include <mutex>
#include <new>

namespace retort::cpu {

namespace {

constexpr std::align_val_t kAlign{64};
constexpr std::size_t kMinCached = 64 * 1024;
constexpr std::size_t kPage = 4096;
constexpr std::size_t kMaxCached = std::size_t(4) << 30;

struct Cache {
  std::mutex mu;
  std::multimap<std::size_t, void*> blocks;
  std::size_t bytes = 0;
  ~Cache() {
    for (auto& [n, p] : blocks) ::operator delete(p, kAlign);
  }
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may outlive static destructors
  return *c;
}

std::size_t rounded(std::size_t n) { return n < kMinCached ? n : (n + kPage - 1) / kPage * kPage; }

// The counter: relaxed atomics suffice (no ordering with the data), and the peak is raised with
// a compare-exchange loop that exits at once in the common case where the peak is not exceeded.
std::atomic<std::size_t> g_live{0};
std::atomic<std::size_t> g_peak{0};

void count_allocation(std::size_t n) {
  std::size_t now = g_live.fetch_add(n, std::memory_order_relaxed) + n;
  std::size_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

}  // namespace

void* allocate(std::size_t nbytes) {
  std::size_t n = rounded(nbytes == 0 ? 64 : nbytes);
  count_allocation(n);
  if (n >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.blocks.find(n);
    if (it != c.blocks.end()) {
      void* p = it->second;
      c.blocks.erase(it);
      c.bytes -= n;
      return p;
    }
  }
  return ::operator new(n, kAlign);
}

void release(void* p, std::size_t nbytes) {
  std::size_t n = rounded(nbytes == 0 ? 64 : nbytes);
  g_live.fetch_sub(n, std::memory_order_relaxed);
  if (n >= kMinCached) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.bytes + n <= kMaxCached) {
      c.blocks.emplace(n, p);
      c.bytes += n;
      return;
    }
  }
  ::operator delete(p, kAlign);
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [n, p] : c.blocks) ::operator delete(p, kAlign);
  c.blocks.clear();
  c.bytes = 0;
}

std::size_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.bytes;
}

std::size_t allocated_bytes() { return g_live.load(std::memory_order_relaxed); }
std::size_t peak_allocated_bytes() { return g_peak.load(std::memory_order_relaxed); }
void reset_peak_allocated_bytes() {
  g_peak.store(g_live.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

}  // namespace retort::cpu
