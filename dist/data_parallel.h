// DataParallel (namespace retort::dist): the DDP pattern. Every rank holds a full replica of the
// model and trains it on its own shard of each global batch; gradients are averaged across the
// ranks during backward, so optimizer.step() on every rank sees the same global gradient and the
// replicas stay identical.
//
//   dist::ProcessGroup& pg = dist::ProcessGroup::world();
//   dist::DataParallel ddp({&student, &regressor}, pg);  // broadcasts rank 0's weights
//   for (batch : loader over a DistributedSampler shard) {     // per-rank batch B/N
//     opt.zero_grad();
//     loss(student(x), y).backward();   // buckets all-reduced (avg) while backward runs
//     opt.step();                        // global gradient, identical on every rank
//   }
//
// It is attached to the modules rather than wrapping them: forward, taps, state dicts and
// checkpoints are the modules' own (a kd::Distiller over the same student works unchanged).
//
// Construction (collective): checks that every rank has the same parameter count and sizes, then
// broadcasts every parameter and buffer from rank 0. Parameters requiring grad are split into
// buckets in reverse registration order (≈ the order backward produces their gradients), one
// dtype and device per bucket, each at most bucket_mb MiB (a larger parameter gets a bucket of its
// own). A post-accumulate-grad hook (autograd/grad_hooks.h) on each parameter marks it ready; when
// a bucket's last gradient is final, its gradients are packed into a flat buffer and an
// all_reduce (avg) is started, non-blocking, while backward carries on with the layers below.
// Buckets start strictly in bucket order (the same on every rank, as MPI requires). When the last
// bucket has started, backward waits for all of them and copies the averages back into .grad(),
// so when backward() returns the gradients are global.
//
// Every parameter that requires grad must get a gradient in every backward (as in DDP without
// find_unused_parameters): if some do not, call synchronize() after backward — it gives them a
// zero local gradient and finishes the round — otherwise the next backward throws naming them.
// For gradient accumulation, backwards under a NoSync guard only accumulate locally; the next
// synchronised backward averages the sum.
//
// BatchNorm statistics stay local to each rank (each normalises by its own batch), as DDP does by
// default; dist::SyncBatchNorm2d (dist/sync_batchnorm.h) normalises over the global batch.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dist/process_group.h"
#include "nn/module.h"

namespace retort::dist {

struct DataParallelOptions {
  double bucket_mb = 1.0;  // bucket capacity in MiB (> 0)
};

// Per-step communication figures, summed since construction or reset_stats().
struct DataParallelStats {
  std::int64_t rounds = 0;        // synchronised backwards
  double bytes = 0;               // gradient bytes all-reduced per rank (payload, not wire)
  double pack_seconds = 0;        // packing and unpacking buckets
  double exposed_seconds = 0;     // backward blocked waiting for all-reduces at the end
  double round_seconds = 0;       // from a round's first ready gradient to its end
};

class DataParallel {
 public:
  DataParallel(std::vector<nn::Module*> modules, ProcessGroup& pg = ProcessGroup::world(),
               DataParallelOptions options = {});
  explicit DataParallel(nn::Module& module, ProcessGroup& pg = ProcessGroup::world(),
                        DataParallelOptions options = {})
      : DataParallel(std::vector<nn::Module*>{&module}, pg, options) {}
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  // Finishes the current round: parameters without a gradient get zeros, every bucket is
  // reduced, results copied into .grad(). A no-op when no round is in progress.
  void synchronize();
  // Broadcasts every buffer (BatchNorm running statistics) from rank 0, e.g. before evaluating or
  // checkpointing, so every replica holds rank 0's.
  void broadcast_buffers();

  // Collective: all-reduces every bucket's buffer `repeats` times back to back, blocking, and
  // returns the mean seconds per round — the communication cost of a step without any overlap,
  // to compare with stats().exposed_seconds. Call between steps (not during a round).
  double time_all_reduce(int repeats = 5);

  std::size_t num_buckets() const;
  std::vector<std::int64_t> bucket_sizes() const;  // elements per bucket, in bucket order
  const DataParallelStats& stats() const;
  void reset_stats();
  ProcessGroup& group() { return pg_; }

  // While alive, backward only accumulates gradients locally (no communication).
  class NoSync {
   public:
    explicit NoSync(DataParallel& ddp);
    ~NoSync();
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    DataParallel& ddp_;
    bool was_;
  };

 private:
  struct State;
  ProcessGroup& pg_;
  std::unique_ptr<State> s_;
};

}  // namespace retort::dist
