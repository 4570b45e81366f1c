// NCCL collectives for CUDA tensors. The communicator is made on the first CUDA collective: rank 0
// asks NCCL for a unique id, which travels to the other ranks over MPI (ProcessGroup::broadcast on
// a CPU tensor, with its deadline), and every rank joins with ncclCommInitRank on the device of
// the tensor. Work is queued on the CUDA backend's stream, so it is ordered with Retort's kernels;
// completion is a CUDA event polled with cudaEventQuery, so the group's deadline applies, and on a
// timeout the communicator is aborted (ncclCommAbort) rather than left waiting on a dead peer.
// ncclAllGather needs equal counts; the ranks' uneven blocks are gathered as one grouped
// broadcast per rank instead.
#include "dist/nccl.h"

#include "retort_config.h"

#if RETORT_WITH_CUDA
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

#include "tensor/cuda/cuda_backend.h"
#endif

namespace retort::dist {

#if RETORT_WITH_CUDA

struct NcclAccess {
  static std::shared_ptr<void>& slot(ProcessGroup& pg) { return pg.nccl_; }
};

namespace {

struct Comm {
  ncclComm_t comm = nullptr;
  int device = 0;
  bool aborted = false;
  ~Comm() {
    if (comm && !aborted) ncclCommDestroy(comm);
  }
};

void nccl_check(ncclResult_t rc, const std::string& what, const char* call) {
  RETORT_CHECK(rc == ncclSuccess, "dist ", what, ": ", call, " failed: ", ncclGetErrorString(rc));
}
void cuda_check(cudaError_t rc, const std::string& what, const char* call) {
  RETORT_CHECK(rc == cudaSuccess, "dist ", what, ": ", call, " failed: ", cudaGetErrorString(rc));
}

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::Float32: return ncclFloat32;
    case DType::Float64: return ncclFloat64;
    case DType::Int64: return ncclInt64;
  }
  return ncclFloat32;
}

std::shared_ptr<Comm> comm_for(ProcessGroup& pg, const std::string& what, const Tensor& t) {
  auto& slot = NcclAccess::slot(pg);
  if (slot) {
    auto c = std::static_pointer_cast<Comm>(slot);
    RETORT_CHECK(!c->aborted, "dist ", what, ": the NCCL communicator was aborted by an earlier timeout");
    RETORT_CHECK(c->device == t.device().index, "dist ", what, ": the NCCL communicator is on cuda:", c->device,
                 ", the tensor on ", t.device().str(), " (one device per rank)");
    return c;
  }
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  if (pg.rank() == 0) nccl_check(ncclGetUniqueId(&id), what, "ncclGetUniqueId");
  static_assert(sizeof(ncclUniqueId) % sizeof(std::int64_t) == 0);
  Tensor wire = zeros({static_cast<std::int64_t>(sizeof id / sizeof(std::int64_t))}, kInt64);
  std::memcpy(wire.raw_data(), &id, sizeof id);
  pg.broadcast(wire, 0);
  std::memcpy(&id, wire.raw_data(), sizeof id);
  auto c = std::make_shared<Comm>();
  c->device = t.device().index;
  cuda_check(cudaSetDevice(c->device), what, "cudaSetDevice");
  nccl_check(ncclCommInitRank(&c->comm, pg.size(), id, pg.rank()), what, "ncclCommInitRank");
  slot = c;
  return c;
}

class NcclWork : public Work {
 public:
  NcclWork(std::string what, double timeout, std::shared_ptr<Comm> comm, std::function<void()> then)
      : Work(std::move(what), timeout), comm_(std::move(comm)), then_(std::move(then)) {
    cuda_check(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), what_, "cudaEventCreate");
  }
  ~NcclWork() override {
    if (!finished_ && !timed_out_ && !comm_->aborted) cudaEventSynchronize(event_);
    cudaEventDestroy(event_);
  }
  void record(cudaStream_t s) { cuda_check(cudaEventRecord(event_, s), what_, "cudaEventRecord"); }
  bool test() override {
    if (finished_) return true;
    cudaError_t rc = cudaEventQuery(event_);
    if (rc == cudaErrorNotReady) return false;
    cuda_check(rc, what_, "cudaEventQuery");
    finished_ = true;
    if (then_) then_();
    return true;
  }

 protected:
  std::string engine_error() override {
    ncclResult_t st = ncclSuccess;
    if (ncclCommGetAsyncError(comm_->comm, &st) != ncclSuccess) return "ncclCommGetAsyncError failed";
    if (st == ncclSuccess || st == ncclInProgress) return "";
    return std::string("NCCL reported: ") + ncclGetErrorString(st);
  }
  void abandon() override {
    if (comm_->aborted) return;
    ncclCommAbort(comm_->comm);
    comm_->aborted = true;
  }

 private:
  std::shared_ptr<Comm> comm_;
  std::function<void()> then_;
  cudaEvent_t event_ = nullptr;
};

}  // namespace

std::unique_ptr<Work> nccl_all_reduce(ProcessGroup& pg, const std::string& what, const Tensor& t,
                                      std::function<void()> then) {
  auto c = comm_for(pg, what, t);
  auto s = static_cast<cudaStream_t>(cuda::native_stream());
  auto w = std::make_unique<NcclWork>(what, pg.timeout(), c, std::move(then));
  nccl_check(ncclAllReduce(t.raw_data(), t.raw_data(), static_cast<std::size_t>(t.numel()), nccl_type(t.dtype()),
                           ncclSum, c->comm, s),
             what, "ncclAllReduce");
  w->record(s);
  return w;
}

std::unique_ptr<Work> nccl_broadcast(ProcessGroup& pg, const std::string& what, const Tensor& t, int root) {
  auto c = comm_for(pg, what, t);
  auto s = static_cast<cudaStream_t>(cuda::native_stream());
  auto w = std::make_unique<NcclWork>(what, pg.timeout(), c, nullptr);
  nccl_check(ncclBroadcast(t.raw_data(), t.raw_data(), static_cast<std::size_t>(t.numel()), nccl_type(t.dtype()),
                           root, c->comm, s),
             what, "ncclBroadcast");
  w->record(s);
  return w;
}

std::unique_ptr<Work> nccl_all_gather(ProcessGroup& pg, const std::string& what, const Tensor& x,
                                      const Tensor& out, const std::vector<std::int64_t>& counts,
                                      const std::vector<std::int64_t>& displs) {
  auto c = comm_for(pg, what, x);
  auto s = static_cast<cudaStream_t>(cuda::native_stream());
  auto w = std::make_unique<NcclWork>(what, pg.timeout(), c, nullptr);
  const std::size_t esize = dtype_size(x.dtype());
  char* base = static_cast<char*>(out.raw_data());
  nccl_check(ncclGroupStart(), what, "ncclGroupStart");
  for (int r = 0; r < pg.size(); ++r) {
    void* dst = base + displs[r] * static_cast<std::int64_t>(esize);
    const void* src = r == pg.rank() ? x.raw_data() : dst;
    nccl_check(ncclBroadcast(src, dst, static_cast<std::size_t>(counts[r]), nccl_type(x.dtype()), r, c->comm, s),
               what, "ncclBroadcast");
  }
  nccl_check(ncclGroupEnd(), what, "ncclGroupEnd");
  w->record(s);
  return w;
}

#else

namespace {
[[noreturn]] void no_nccl(const std::string& what) {
  fail("dist ", what, ": CUDA tensors need NCCL, and this build of Retort has no CUDA (RETORT_WITH_CUDA=OFF)");
}
}  // namespace

std::unique_ptr<Work> nccl_all_reduce(ProcessGroup&, const std::string& what, const Tensor&, std::function<void()>) {
  no_nccl(what);
}
std::unique_ptr<Work> nccl_broadcast(ProcessGroup&, const std::string& what, const Tensor&, int) { no_nccl(what); }
std::unique_ptr<Work> nccl_all_gather(ProcessGroup&, const std::string& what, const Tensor&, const Tensor&,
                                      const std::vector<std::int64_t>&, const std::vector<std::int64_t>&) {
  no_nccl(what);
}

#endif

}  // namespace retort::dist
