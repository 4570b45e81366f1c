// The launcher's environment: which rank this process is, of how many, on this node, and the
// collectives' default deadline. Read from the variables that OpenMPI's mpirun, Slurm's srun and
// PMI-based launchers set; ProcessGroup takes rank and size from MPI, and from here only the local
// rank (which MPI does not know: it picks a rank's GPU).
#include <climits>
#include <cstdlib>

#include "dist/process_group.h"

namespace retort::dist {

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  RETORT_CHECK(*end == '\0' && x >= 0 && x < INT_MAX, "dist: environment variable ", name, "='", v,
               "' is not a non-negative integer");
  return static_cast<int>(x);
}

}  // namespace

LaunchEnv launch_env() {
  LaunchEnv e;
  if (std::getenv("OMPI_COMM_WORLD_RANK")) {
    e = {env_int("OMPI_COMM_WORLD_RANK", 0), env_int("OMPI_COMM_WORLD_SIZE", 1),
         env_int("OMPI_COMM_WORLD_LOCAL_RANK", 0), "openmpi"};
  } else if (std::getenv("SLURM_PROCID")) {
    e = {env_int("SLURM_PROCID", 0), env_int("SLURM_NTASKS", 1), env_int("SLURM_LOCALID", 0), "slurm"};
  } else if (std::getenv("PMI_RANK")) {
    e = {env_int("PMI_RANK", 0), env_int("PMI_SIZE", 1), 0, "pmi"};
  }
  RETORT_CHECK(e.world_size >= 1 && e.rank < e.world_size, "dist: the launcher (", e.launcher, ") says rank ",
               e.rank, " of ", e.world_size);
  return e;
}

double default_timeout() {
  const char* v = std::getenv("RETORT_DIST_TIMEOUT");
  if (!v || !*v) return 300;
  char* end = nullptr;
  double s = std::strtod(v, &end);
  RETORT_CHECK(*end == '\0' && s > 0, "dist: RETORT_DIST_TIMEOUT='", v, "' is not a positive number of seconds");
  return s;
}

}  // namespace retort::dist
