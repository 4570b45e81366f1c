// The MPI side of the process group, and the deadline logic every collective shares. Collectives
// are MPI's non-blocking ones (MPI_Iallreduce, MPI_Ibcast, ...), completed by polling MPI_Test,
// because a blocking MPI call cannot be given a deadline: a rank that died or skipped the call
// would leave the others inside MPI forever. Errors return as codes (MPI_ERRORS_RETURN) so each
// one can be reported with the collective, the rank and the tensor.
#include "dist/process_group.h"

#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <thread>
#include <vector>

#include "dist/nccl.h"
#include "tensor/elementwise.h"
#include "tensor/shape.h"
#include "tensor/views.h"

namespace retort::dist {

namespace {

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::Float32: return MPI_FLOAT;
    case DType::Float64: return MPI_DOUBLE;
    case DType::Int64: return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

std::string mpi_message(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return std::string(text, static_cast<std::size_t>(len));
}

void mpi_check(int rc, const std::string& what, const char* call) {
  RETORT_CHECK(rc == MPI_SUCCESS, "dist ", what, ": ", call, " failed: ", mpi_message(rc));
}

int count_of(const Tensor& t, const std::string& what) {
  RETORT_CHECK(t.numel() < INT_MAX, "dist ", what, ": ", t.numel(), " elements exceed MPI's int count");
  return static_cast<int>(t.numel());
}

// One MPI request; complete() runs the step that follows it (Avg's division, a copy back).
class MpiWork : public Work {
 public:
  MpiWork(std::string what, double timeout, std::function<void()> then)
      : Work(std::move(what), timeout), then_(std::move(then)) {}
  ~MpiWork() override {
    if (finished_ || timed_out_) return;
    try {
      wait();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
  }
  MPI_Request request = MPI_REQUEST_NULL;
  bool test() override {
    if (finished_) return true;
    int flag = 0;
    mpi_check(MPI_Test(&request, &flag, MPI_STATUS_IGNORE), what_, "MPI_Test");
    if (flag) {
      finished_ = true;
      if (then_) then_();
    }
    return finished_;
  }

 private:
  std::function<void()> then_;
};

bool g_initialized = false;

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

Work::Work(std::string what, double timeout)
    : what_(std::move(what)), timeout_(timeout), start_(std::chrono::steady_clock::now()) {}

void Work::wait() {
  if (finished_) return;
  const auto t0 = std::chrono::steady_clock::now();
  // Poll, yielding the core between polls (on a machine with fewer cores than ranks the rank
  // being waited for needs it); OpenMPI advances a collective's stages only inside MPI calls, so
  // polls must come often. After 20 ms without completion (a straggler, not a transfer), poll
  // every 50 µs instead.
  for (;;) {
    if (test()) break;
    const std::string err = engine_error();
    RETORT_CHECK(err.empty(), "dist ", what_, ": ", err);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed > timeout_) {
      timed_out_ = true;
      abandon();
      std::ostringstream os;
      os << "dist " << what_ << ": timed out after " << timeout_
         << " s waiting for the other ranks (a rank died, hung, or did not call this collective; "
            "RETORT_DIST_TIMEOUT or ProcessGroup::set_timeout sets the limit)";
      throw Error(os.str());
    }
    if (std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(20))
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    else
      std::this_thread::yield();
  }
  waited_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

ProcessGroup& ProcessGroup::world() {
  static ProcessGroup* pg = new ProcessGroup();  // never destroyed: MPI_Finalize runs at exit
  return *pg;
}

ProcessGroup::ProcessGroup() {
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    int provided = 0;
    mpi_check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "init", "MPI_Init_thread");
    std::atexit(finalize_at_exit);
  }
  g_initialized = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  const LaunchEnv env = launch_env();
  local_rank_ = env.world_size == size_ ? env.local_rank : 0;
  timeout_ = default_timeout();
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::set_timeout(double seconds) {
  RETORT_CHECK(seconds > 0, "dist set_timeout: ", seconds, " is not a positive number of seconds");
  timeout_ = seconds;
}

std::string ProcessGroup::describe(const char* collective, const Tensor* t) const {
  std::ostringstream os;
  os << collective << " on rank " << rank_ << "/" << size_;
  if (t) os << ": tensor " << shape_str(t->sizes()) << " " << dtype_name(t->dtype()) << " " << t->device().str();
  return os.str();
}

std::unique_ptr<Work> ProcessGroup::all_reduce_async(const Tensor& t, ReduceOp op) {
  const std::string what = describe(op == ReduceOp::Sum ? "all_reduce (sum)" : "all_reduce (avg)", &t);
  RETORT_CHECK(t.defined(), "dist ", what, ": tensor is undefined");
  RETORT_CHECK(t.is_contiguous(), "dist ", what, ": tensor is not contiguous");
  RETORT_CHECK(op == ReduceOp::Sum || is_floating(t.dtype()), "dist ", what, ": avg needs a floating dtype");
  const double scale = 1.0 / size_;
  std::function<void()> then;
  if (op == ReduceOp::Avg && size_ > 1) then = [t, scale] { ops::mul_scalar_(t, scale); };
  if (t.device().is_cuda()) return nccl_all_reduce(*this, what, t, std::move(then));
  auto w = std::make_unique<MpiWork>(what, timeout_, std::move(then));
  mpi_check(MPI_Iallreduce(MPI_IN_PLACE, t.raw_data(), count_of(t, what), mpi_type(t.dtype()), MPI_SUM,
                           MPI_COMM_WORLD, &w->request),
            what, "MPI_Iallreduce");
  return w;
}

void ProcessGroup::all_reduce(const Tensor& t, ReduceOp op) { all_reduce_async(t, op)->wait(); }

void ProcessGroup::broadcast(const Tensor& t, int root) {
  const std::string what = describe("broadcast", &t);
  RETORT_CHECK(t.defined(), "dist ", what, ": tensor is undefined");
  RETORT_CHECK(root >= 0 && root < size_, "dist ", what, ": root ", root, " is not a rank of ", size_);
  RETORT_CHECK(t.is_contiguous(), "dist ", what, ": tensor is not contiguous");
  if (t.device().is_cuda()) return nccl_broadcast(*this, what, t, root)->wait();
  MpiWork w(what, timeout_, nullptr);
  mpi_check(MPI_Ibcast(t.raw_data(), count_of(t, what), mpi_type(t.dtype()), root, MPI_COMM_WORLD, &w.request),
            what, "MPI_Ibcast");
  w.wait();
}

void ProcessGroup::barrier() {
  const std::string what = describe("barrier", nullptr);
  MpiWork w(what, timeout_, nullptr);
  mpi_check(MPI_Ibarrier(MPI_COMM_WORLD, &w.request), what, "MPI_Ibarrier");
  w.wait();
}

Tensor ProcessGroup::all_gather(const Tensor& x_in) {
  RETORT_CHECK(x_in.defined(), "dist ", describe("all_gather", nullptr), ": tensor is undefined");
  const Tensor x = (x_in.dim() == 0 ? ops::reshape(x_in, {1}) : x_in).contiguous();
  const std::string what = describe("all_gather", &x_in);
  // Every rank's shape (rank, then sizes padded to 8 dims) and dtype, so a mismatch can be named.
  constexpr int kSlots = 10;
  RETORT_CHECK(x.dim() <= kSlots - 2, "dist ", what, ": more than ", kSlots - 2, " dims");
  std::vector<std::int64_t> mine(kSlots, -1), all(static_cast<std::size_t>(kSlots) * size_);
  mine[0] = static_cast<std::int64_t>(x.dtype());
  mine[1] = x.dim();
  for (std::int64_t d = 0; d < x.dim(); ++d) mine[2 + d] = x.size(d);
  {
    MpiWork w(what + " (shapes)", timeout_, nullptr);
    mpi_check(MPI_Iallgather(mine.data(), kSlots, MPI_INT64_T, all.data(), kSlots, MPI_INT64_T, MPI_COMM_WORLD,
                             &w.request),
              what, "MPI_Iallgather");
    w.wait();
  }
  // The reference layout is the first rank with rows (a rank without rows may send any empty
  // tensor); every rank with rows must match it beyond dim 0.
  int ref = 0;
  for (int r = 0; r < size_; ++r)
    if (all[static_cast<std::size_t>(r) * kSlots + 2] > 0) {
      ref = r;
      break;
    }
  const std::int64_t* rs = &all[static_cast<std::size_t>(ref) * kSlots];
  std::int64_t rows = 0;
  bool agree = true;
  std::ostringstream shapes;
  for (int r = 0; r < size_; ++r) {
    const std::int64_t* s = &all[static_cast<std::size_t>(r) * kSlots];
    Shape sh(s + 2, s + 2 + s[1]);
    shapes << (r ? ", " : "") << "rank " << r << " " << shape_str(sh) << " " << dtype_name(static_cast<DType>(s[0]));
    if (s[2] > 0) agree = agree && s[0] == rs[0] && s[1] == rs[1] && std::equal(s + 3, s + kSlots, rs + 3);
    rows += s[2];
  }
  RETORT_CHECK(agree, "dist ", what, ": the ranks' tensors differ beyond dim 0 (", shapes.str(), ")");
  const DType dtype = static_cast<DType>(rs[0]);
  Shape out_shape(rs + 2, rs + 2 + rs[1]);
  out_shape[0] = rows;
  Tensor out = empty(out_shape, dtype, x.device());
  const std::int64_t row = shape_numel(Shape(out_shape.begin() + 1, out_shape.end()));
  std::vector<std::int64_t> counts(size_), displs(size_);
  std::int64_t at = 0;
  for (int r = 0; r < size_; ++r) {
    counts[r] = all[static_cast<std::size_t>(r) * kSlots + 2] * row;
    displs[r] = at;
    at += counts[r];
  }
  RETORT_CHECK(at < INT_MAX, "dist ", what, ": ", at, " elements exceed MPI's int count");
  if (x.device().is_cuda()) {
    nccl_all_gather(*this, what, x, out, counts, displs)->wait();
    return out;
  }
  std::vector<int> c(counts.begin(), counts.end()), d(displs.begin(), displs.end());
  MpiWork w(what, timeout_, nullptr);
  mpi_check(MPI_Iallgatherv(x.raw_data(), c[rank_], mpi_type(dtype), out.raw_data(), c.data(), d.data(),
                            mpi_type(dtype), MPI_COMM_WORLD, &w.request),
            what, "MPI_Iallgatherv");
  w.wait();
  return out;
}

bool initialized() { return g_initialized; }

int run_guarded(const std::function<int()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    int rank = 0, size = 1;
    if (g_initialized) {
      MPI_Comm_rank(MPI_COMM_WORLD, &rank);
      MPI_Comm_size(MPI_COMM_WORLD, &size);
    }
    std::fprintf(stderr, "rank %d/%d: %s\n", rank, size, e.what());
    std::fflush(stderr);
    if (g_initialized && size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
}

}  // namespace retort::dist
