// DataParallel's bucket machinery (see data_parallel.h). A round is one synchronised backward:
// the hooks mark parameters ready, a bucket whose parameters are all ready is packed and its
// all-reduce started as soon as every bucket before it has started (so every rank issues the
// same collectives in the same order), and the hook that starts the last bucket waits for all of
// them. Each hook also tests the started reductions, because OpenMPI makes progress on a
// non-blocking collective only inside MPI calls.
#include "dist/data_parallel.h"

#include <chrono>
#include <sstream>
#include <unordered_map>

#include "autograd/grad_hooks.h"
#include "autograd/grad_mode.h"
#include "tensor/shape.h"

namespace retort::dist {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A view of flat[offset, offset + numel(shape)) with the given shape.
Tensor slice_as(const Tensor& flat, std::int64_t offset, const Shape& shape) {
  return as_strided(flat, shape, contiguous_strides(shape), flat.offset() + offset);
}
}  // namespace

struct DataParallel::State {
  struct Param {
    std::string name;
    Tensor t;
    std::size_t bucket = 0;
    std::int64_t offset = 0;  // in the bucket's flat buffer
    std::uint64_t hook = 0;
    bool ready = false;
  };
  struct Bucket {
    std::vector<std::size_t> params;
    std::int64_t numel = 0;
    DType dtype = kFloat32;
    Device device = kCPU;
    Tensor flat;
    int pending = 0;  // parameters not yet ready this round
    std::unique_ptr<Work> work;
  };
  ProcessGroup* pg = nullptr;
  std::vector<Param> params;
  std::vector<Bucket> buckets;
  std::vector<Tensor> buffers;
  std::size_t next_launch = 0;  // buckets [0, next_launch) have started this round
  bool in_round = false;
  bool sync = true;
  Clock::time_point round_start;
  DataParallelStats stats;

  void begin_round() {
    in_round = true;
    round_start = Clock::now();
    next_launch = 0;
    for (auto& b : buckets) b.pending = static_cast<int>(b.params.size());
    for (auto& p : params) p.ready = false;
  }

  void launch(Bucket& b) {
    const auto t0 = Clock::now();
    if (!b.flat.defined()) b.flat = empty({b.numel}, b.dtype, b.device);
    for (std::size_t i : b.params) {
      const Param& p = params[i];
      slice_as(b.flat, p.offset, p.t.sizes()).copy_(p.t.grad());
    }
    stats.pack_seconds += since(t0);
    stats.bytes += static_cast<double>(b.numel) * static_cast<double>(dtype_size(b.dtype));
    b.work = pg->all_reduce_async(b.flat, ReduceOp::Avg);
  }

  void finish_round() {
    const auto t0 = Clock::now();
    for (auto& b : buckets) b.work->wait();
    stats.exposed_seconds += since(t0);
    const auto t1 = Clock::now();
    for (auto& b : buckets) {
      for (std::size_t i : b.params) {
        const Param& p = params[i];
        p.t.grad().copy_(slice_as(b.flat, p.offset, p.t.sizes()));
      }
      b.work.reset();
    }
    stats.pack_seconds += since(t1);
    stats.round_seconds += since(round_start);
    ++stats.rounds;
    in_round = false;
  }

  // Starts every bucket that is ready and whose predecessors have started; ends the round after
  // the last one.
  void advance() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) launch(buckets[next_launch++]);
    for (std::size_t i = 0; i < next_launch; ++i) buckets[i].work->test();
    if (next_launch == buckets.size()) finish_round();
  }

  void on_ready(std::size_t index) {
    if (!sync) return;
    if (!in_round) begin_round();
    Param& p = params[index];
    if (p.ready) {
      std::ostringstream missing;
      int n = 0;
      for (const auto& q : params)
        if (!q.ready && n++ < 8) missing << (n > 1 ? ", " : "") << q.name;
      fail("DataParallel on rank ", pg->rank(), ": parameter '", p.name, "' ", shape_str(p.t.sizes()),
           " got a gradient twice in one round: the previous backward left parameters without a "
           "gradient (", missing.str(), n > 8 ? ", ..." : "", "); call synchronize() after such a backward");
    }
    p.ready = true;
    --buckets[p.bucket].pending;
    advance();
  }
};

DataParallel::DataParallel(std::vector<nn::Module*> modules, ProcessGroup& pg, DataParallelOptions options)
    : pg_(pg), s_(std::make_unique<State>()) {
  RETORT_CHECK(options.bucket_mb > 0, "DataParallel: bucket_mb ", options.bucket_mb, " is not positive");
  s_->pg = &pg;
  std::unordered_map<TensorImpl*, bool> seen;
  std::vector<std::pair<std::string, Tensor>> all_params;
  for (std::size_t m = 0; m < modules.size(); ++m) {
    RETORT_CHECK(modules[m] != nullptr, "DataParallel: module ", m, " is null");
    const std::string prefix = modules.size() > 1 ? std::to_string(m) + ":" : "";
    for (auto& [name, t] : modules[m]->named_parameters())
      if (seen.emplace(t.impl().get(), true).second) all_params.emplace_back(prefix + name, t);
    for (auto& t : modules[m]->buffers())
      if (seen.emplace(t.impl().get(), true).second) s_->buffers.push_back(t);
  }
  // Same model everywhere: count and total size of parameters and buffers, compared across ranks.
  std::int64_t numel = 0;
  for (auto& [n, t] : all_params) numel += t.numel();
  for (auto& t : s_->buffers) numel += t.numel();
  Tensor sig = from_vector(std::vector<std::int64_t>{static_cast<std::int64_t>(all_params.size()),
                                                     static_cast<std::int64_t>(s_->buffers.size()), numel},
                           {1, 3});
  const Tensor sigs = pg.all_gather(sig);
  const auto v = sigs.to_vector<std::int64_t>();
  for (int r = 0; r < pg.size(); ++r)
    RETORT_CHECK(v[3 * r] == v[0] && v[3 * r + 1] == v[1] && v[3 * r + 2] == v[2], "DataParallel: rank ", r, " has ",
                 v[3 * r], " parameters, ", v[3 * r + 1], " buffers, ", v[3 * r + 2], " elements; rank 0 has ", v[0],
                 ", ", v[1], ", ", v[2], " (every rank must build the same model)");
  {
    NoGradGuard ng;
    for (auto& [n, t] : all_params) {
      RETORT_CHECK(t.is_contiguous(), "DataParallel: parameter '", n, "' ", shape_str(t.sizes()), " is not contiguous");
      pg.broadcast(t, 0);
    }
  }
  broadcast_buffers();

  const double cap = options.bucket_mb * 1024 * 1024;
  for (auto it = all_params.rbegin(); it != all_params.rend(); ++it) {
    const Tensor& t = it->second;
    if (!t.requires_grad()) continue;
    State::Bucket* b = s_->buckets.empty() ? nullptr : &s_->buckets.back();
    const double bytes = static_cast<double>(t.numel() * static_cast<std::int64_t>(dtype_size(t.dtype())));
    if (!b || b->dtype != t.dtype() || b->device != t.device() ||
        (b->numel > 0 && static_cast<double>(b->numel) * static_cast<double>(dtype_size(b->dtype)) + bytes > cap)) {
      s_->buckets.push_back({});
      b = &s_->buckets.back();
      b->dtype = t.dtype();
      b->device = t.device();
    }
    s_->params.push_back({it->first, t, s_->buckets.size() - 1, b->numel, 0, false});
    b->params.push_back(s_->params.size() - 1);
    b->numel += t.numel();
  }
  State* st = s_.get();
  for (std::size_t i = 0; i < s_->params.size(); ++i)
    s_->params[i].hook = autograd::register_post_accumulate_grad_hook(
        s_->params[i].t, [st, i](const Tensor&) { st->on_ready(i); });
}

DataParallel::~DataParallel() {
  for (auto& p : s_->params) autograd::remove_post_accumulate_grad_hook(p.t, p.hook);
}

void DataParallel::synchronize() {
  State& s = *s_;
  if (!s.in_round) return;
  for (auto& p : s.params) {
    if (p.ready) continue;
    if (!p.t.grad().defined()) p.t.set_grad(zeros(p.t.sizes(), p.t.dtype(), p.t.device()));
    p.ready = true;
    --s.buckets[p.bucket].pending;
  }
  s.advance();
}

void DataParallel::broadcast_buffers() {
  for (auto& t : s_->buffers) pg_.broadcast(t, 0);
}

double DataParallel::time_all_reduce(int repeats) {
  State& s = *s_;
  RETORT_CHECK(!s.in_round && repeats >= 1, "DataParallel::time_all_reduce: a round is in progress or repeats ", repeats, " < 1");
  for (auto& b : s.buckets)
    if (!b.flat.defined()) b.flat = zeros({b.numel}, b.dtype, b.device);
  pg_.barrier();
  const auto t0 = Clock::now();
  for (int i = 0; i < repeats; ++i)
    for (auto& b : s.buckets) pg_.all_reduce(b.flat, ReduceOp::Sum);
  return since(t0) / repeats;
}

std::size_t DataParallel::num_buckets() const { return s_->buckets.size(); }

std::vector<std::int64_t> DataParallel::bucket_sizes() const {
  std::vector<std::int64_t> out;
  for (const auto& b : s_->buckets) out.push_back(b.numel);
  return out;
}

const DataParallelStats& DataParallel::stats() const { return s_->stats; }
void DataParallel::reset_stats() { s_->stats = {}; }

DataParallel::NoSync::NoSync(DataParallel& ddp) : ddp_(ddp), was_(ddp.s_->sync) {
  RETORT_CHECK(!ddp.s_->in_round, "DataParallel::NoSync: a synchronised round is in progress (call synchronize() first)");
  ddp.s_->sync = false;
}
DataParallel::NoSync::~NoSync() { ddp_.s_->sync = was_; }

}  // namespace retort::dist
