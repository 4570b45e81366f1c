// Process groups (namespace retort::dist): the processes of one job, started by a launcher
// (`mpirun -np N prog`, `srun prog`), and the collectives they run together.
//
//   dist::ProcessGroup& pg = dist::ProcessGroup::world();   // MPI_Init on first use
//   pg.all_reduce(t, dist::ReduceOp::Avg);                   // t ← (Σ_r t_r) / size, in place
//   pg.broadcast(t, 0);                                      // t ← t on rank 0
//   Tensor all = pg.all_gather(x);                           // x [n_r, ...] → [Σ_r n_r, ...]
//   pg.barrier();
//
// Engines: CPU tensors go through MPI (OpenMPI's non-blocking collectives), CUDA tensors through
// NCCL on the CUDA backend's stream; the NCCL communicator is created on the first CUDA
// collective from a unique id that rank 0 makes and broadcasts over MPI. Every rank must call the
// same collectives in the same order with matching dtypes and shapes (all_gather: any dim 0).
//
// Failures. Every MPI/NCCL status is checked; an error names the collective, the rank, and the
// tensor's shape, dtype and device. Every collective has a deadline (timeout(), default the
// environment variable RETORT_DIST_TIMEOUT in seconds, else 300): a rank that waits past it —
// because another rank died, hung, or skipped the collective — throws instead of hanging forever.
// After such an error the job cannot continue (the collective is still pending in MPI): let the
// exception reach run_guarded(), which prints it and calls MPI_Abort so that every other rank is
// stopped too. A rank that exits without MPI_Finalize is reported by mpirun, which then stops
// the job.
//
// Threads: MPI is initialised with MPI_THREAD_FUNNELED; call collectives from the main thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tensor/tensor.h"

namespace retort::dist {

enum class ReduceOp { Sum, Avg };  // Avg: floating dtypes only

// This process's place in the job, as the launcher set it in the environment: OpenMPI's
// OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK}, else Slurm's SLURM_{PROCID,NTASKS,LOCALID}, else
// PMI_{RANK,SIZE}; a process started without a launcher is rank 0 of 1 ("none").
struct LaunchEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string launcher = "none";  // "openmpi", "slurm", "pmi" or "none"
};
LaunchEnv launch_env();

// RETORT_DIST_TIMEOUT (seconds, > 0) or 300; throws naming the variable when it is malformed.
double default_timeout();

// A started collective. test() makes progress and says whether it has finished; wait() blocks
// until it has (then runs its completion step, e.g. Avg's division) or throws once the group's
// timeout has passed since the start. Destroying an unfinished Work waits for it (a timeout there
// aborts the job, as no exception may leave a destructor), except after wait() has timed out.
class Work {
 public:
  virtual ~Work() = default;
  virtual bool test() = 0;
  void wait();
  bool done() const { return finished_; }
  double seconds_waited() const { return waited_; }  // time spent blocked in wait()

 protected:
  Work(std::string what, double timeout);
  virtual std::string engine_error() { return ""; }  // an asynchronous engine error, if any
  virtual void abandon() {}  // on timeout: release engine resources if the engine can
  std::string what_;
  double timeout_;
  std::chrono::steady_clock::time_point start_;
  bool finished_ = false;
  bool timed_out_ = false;
  double waited_ = 0;
};

class ProcessGroup {
 public:
  // Every process of the job (MPI_COMM_WORLD). Initialises MPI on the first call (MPI_Finalize
  // runs at exit); the rank, size and local rank are MPI's, and must agree with launch_env().
  static ProcessGroup& world();
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  bool is_main() const { return rank_ == 0; }  // the rank that prints and writes files
  double timeout() const { return timeout_; }
  void set_timeout(double seconds);  // > 0

  // t ← Σ_r t_r (Sum) or (Σ_r t_r) / size (Avg), in place; t any shape (also empty), any dtype,
  // contiguous. The async form returns at once; t holds the result after wait().
  void all_reduce(const Tensor& t, ReduceOp op = ReduceOp::Sum);
  std::unique_ptr<Work> all_reduce_async(const Tensor& t, ReduceOp op = ReduceOp::Sum);
  // t ← rank root's t, in place; every rank's t has the same shape and dtype.
  void broadcast(const Tensor& t, int root = 0);
  // Rank r's x [n_r, d1, ...] concatenated in rank order → [Σ n_r, d1, ...]; the trailing sizes
  // and dtype must agree on every rank with rows (checked: the error names each rank's shape); a
  // rank with no rows (n_r = 0) may pass any empty tensor. A 0-d x is treated as [1].
  Tensor all_gather(const Tensor& x);
  void barrier();

  // "all_reduce (sum) on rank 1/2: tensor [3,4] float32 cpu" — the prefix of every error.
  std::string describe(const char* collective, const Tensor* t) const;

 private:
  ProcessGroup();
  friend struct NcclAccess;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  double timeout_ = 300;
  std::shared_ptr<void> nccl_;  // the NCCL communicator (dist/nccl.cpp), made on first use
};

// Runs fn (a program's main body) and returns its exit code. An exception is printed on stderr as
// "rank r/n: <message>" and, in a job of more than one process, MPI_Abort stops every rank at
// once (exit code 1), so no rank waits for one that has failed.
int run_guarded(const std::function<int()>& fn);

// Whether MPI has been initialised in this process (ProcessGroup::world() was called).
bool initialized();

}  // namespace retort::dist
