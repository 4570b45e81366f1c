// Splitting work over the ranks and combining the results (namespace retort::dist): distributed
// evaluation and building per-sample caches (a teacher's logits) in parallel.
//
// Work over n items in batches of `batch` is split in whole batches: rank r computes batches
// [⌊r·K/W⌋, ⌊(r+1)·K/W⌋) of the K = ⌈n/B⌉ batches. Each batch is therefore exactly the batch a
// single process would compute, so a per-row result that depends only on its batch (inference
// with a fixed thread count) is bit-identical to the single-process one after the all-gather.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "dist/process_group.h"

namespace retort::dist {

struct Range {
  std::int64_t begin = 0, end = 0;  // items [begin, end)
};
// This rank's items; throws unless n ≥ 0 and batch ≥ 1.
Range shard_range(std::int64_t n, std::int64_t batch, int world_size, int rank);

// fn(begin, end) → [end − begin, ...] for each of this rank's batches, concatenated and
// all-gathered in rank order → [n, ...], the same on every rank as calling fn on every batch in
// one process. A rank without batches contributes nothing (its fn is not called).
Tensor sharded_map(ProcessGroup& pg, std::int64_t n, std::int64_t batch,
                   const std::function<Tensor(std::int64_t begin, std::int64_t end)>& fn);

// Σ over the ranks of each count (e.g. {correct, seen} of a distributed evaluation).
std::vector<std::int64_t> sum_counts(ProcessGroup& pg, const std::vector<std::int64_t>& counts);

}  // namespace retort::dist
