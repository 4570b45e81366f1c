// Timing shared by retort_bench's workloads: `images_per_second(batch, steps, fn)` runs fn 3 times
// as warm-up, then `steps` timed times, and returns batch / (median seconds per step). On a GPU each
// step ends with a device synchronise, so a step is timed to its last kernel.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tensor/cuda/cuda_backend.h"
#include "tensor/device.h"

namespace retort::bench {

inline bool g_on_gpu = false;

inline void sync_if_gpu() {
  if (g_on_gpu) cuda::synchronize();
}

inline double images_per_second(std::int64_t batch, int steps, const std::function<void()>& fn) {
  for (int i = 0; i < 3; ++i) fn();
  sync_if_gpu();
  std::vector<double> secs;
  for (int i = 0; i < steps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    sync_if_gpu();
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(secs.begin(), secs.end());
  double median = secs.size() % 2 ? secs[secs.size() / 2]
                                  : 0.5 * (secs[secs.size() / 2 - 1] + secs[secs.size() / 2]);
  return static_cast<double>(batch) / median;
}

// The model-zoo workloads for model `name` (nn/zoo.h, 100 classes), batch 64, random normal
// input, RepDistiller's optimiser (SGD, momentum 0.9, weight decay 5e-4, the model's base lr):
//   NAME_train  forward, cross-entropy, backward, SGD step (train mode)
//   NAME_infer  eval mode, forward under no_grad
// Returns {name_train, value}, {name_infer, value} in images/s.
std::vector<std::pair<std::string, double>> zoo_workloads(const std::string& name, int steps,
                                                          Device device);

}  // namespace retort::bench
