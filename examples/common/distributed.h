// Data-parallel runs of the example programs (`mpirun -np N build/examples/cifar10_kd
// --distributed ...`, docs/distributed.md), on dist/ (namespace retort::examples).
//
// start_distributed() joins the MPI job; from then on:
//   - make_loader gives each rank its part of every global batch (dist::DistributedSampler): the
//     global batch is --batch (each rank gets --batch / N) or, with --scale-batch, N·--batch;
//   - train_run attaches dist::DataParallel to the net and its extra modules (gradients averaged
//     during backward), and before each evaluation copies rank 0's BatchNorm statistics to every
//     rank;
//   - evaluate() and cache_teacher() split the images over the ranks in whole inference batches
//     and combine the results (counts summed, cache rows all-gathered: bit-identical to one
//     process's cache at the same thread count);
//   - `--device cuda` means cuda:<local rank> (rank_device), so each process on a node has its own
//     GPU and NCCL carries the gradients;
//   - only rank 0 prints (the other ranks' stdout goes to /dev/null; errors still reach stderr)
//     and writes files: CSVs, plots, saved teachers, checkpoints.
// A build without MPI (RETORT_WITH_MPI=OFF) refuses --distributed with a clear message.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "tensor/tensor.h"

namespace retort::examples {

struct DistInfo {
  bool on = false;
  int rank = 0, size = 1, local_rank = 0;
  bool scale_batch = false;
  bool main() const { return rank == 0; }
};

// This process's view (off, rank 0 of 1, until start_distributed()).
const DistInfo& dist_info();
// Joins the job (MPI_Init); silences stdout on ranks other than 0. Throws in a build without MPI.
void start_distributed(bool scale_batch);
// --device for this rank: "cuda" becomes "cuda:<local rank>" under --distributed (one GPU per
// process on a node); anything else is returned unchanged.
std::string rank_device(const std::string& device);
// The global batch of a step for --batch B: B, or N·B with --scale-batch.
std::int64_t global_batch(std::int64_t batch);
// Runs a program body: under --distributed through dist::run_guarded (an error on any rank stops
// the whole job at once), else directly.
int run_program(const std::function<int()>& body);

}  // namespace retort::examples
