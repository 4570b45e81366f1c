// The examples' switch between one process and an MPI job (see distributed.h). Every call into
// dist/ is behind RETORT_WITH_MPI so the examples still build without MPI.
#include "common/distributed.h"

#include <cstdio>

#include "retort_config.h"
#include "tensor/error.h"

#if RETORT_WITH_MPI
#include "dist/process_group.h"
#endif

namespace retort::examples {

namespace {
DistInfo g_info;
}

const DistInfo& dist_info() { return g_info; }

void start_distributed(bool scale_batch) {
#if RETORT_WITH_MPI
  dist::ProcessGroup& pg = dist::ProcessGroup::world();
  g_info = {true, pg.rank(), pg.size(), pg.local_rank(), scale_batch};
  if (!g_info.main()) RETORT_CHECK(std::freopen("/dev/null", "w", stdout) != nullptr, "--distributed: cannot silence stdout");
#else
  (void)scale_batch;
  fail("--distributed: this build of Retort has no MPI (configure with -DRETORT_WITH_MPI=ON and install "
       "libopenmpi-dev, openmpi-bin)");
#endif
}

std::string rank_device(const std::string& device) {
  return g_info.on && device == "cuda" ? "cuda:" + std::to_string(g_info.local_rank) : device;
}

std::int64_t global_batch(std::int64_t batch) { return g_info.on && g_info.scale_batch ? batch * g_info.size : batch; }

int run_program(const std::function<int()>& body) {
#if RETORT_WITH_MPI
  if (g_info.on) return dist::run_guarded(body);
#endif
  return body();
}

}  // namespace retort::examples
