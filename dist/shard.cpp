// Sharded maps and summed counts (see shard.h): the shard is a run of whole batches so that the
// gathered result is computed in the same batches as a single process would use.
#include "dist/shard.h"

#include "tensor/shape.h"
#include "tensor/index.h"

namespace retort::dist {

Range shard_range(std::int64_t n, std::int64_t batch, int world_size, int rank) {
  RETORT_CHECK(n >= 0 && batch >= 1 && world_size >= 1 && rank >= 0 && rank < world_size, "shard_range: n ", n,
               ", batch ", batch, ", rank ", rank, " of ", world_size);
  const std::int64_t k = (n + batch - 1) / batch;
  const std::int64_t b0 = rank * k / world_size, b1 = (rank + 1) * k / world_size;
  return {std::min(n, b0 * batch), std::min(n, b1 * batch)};
}

Tensor sharded_map(ProcessGroup& pg, std::int64_t n, std::int64_t batch,
                   const std::function<Tensor(std::int64_t, std::int64_t)>& fn) {
  const Range r = shard_range(n, batch, pg.size(), pg.rank());
  std::vector<Tensor> parts;
  for (std::int64_t b = r.begin; b < r.end; b += batch) {
    const std::int64_t e = std::min(r.end, b + batch);
    Tensor y = fn(b, e);
    RETORT_CHECK(y.defined() && y.dim() >= 1 && y.size(0) == e - b, "sharded_map: rows [", b, ", ", e,
                 ") gave ", y.defined() ? shape_str(y.sizes()) : "undefined", ", expected ", e - b, " rows");
    parts.push_back(y.contiguous());
  }
  Tensor mine = parts.empty() ? empty({0}) : parts.size() == 1 ? parts[0] : ops::cat(parts, 0);
  return pg.all_gather(mine);
}

std::vector<std::int64_t> sum_counts(ProcessGroup& pg, const std::vector<std::int64_t>& counts) {
  Tensor t = from_vector(counts, {static_cast<std::int64_t>(counts.size())});
  pg.all_reduce(t, ReduceOp::Sum);
  return t.to_vector<std::int64_t>();
}

}  // namespace retort::dist
