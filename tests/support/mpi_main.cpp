// The Catch2 main of the MPI tests (tests/dist/, run by ctest as `mpirun -np 2 <test>`): MPI is
// initialised once before the tests and finalised at exit, every rank runs every test case (the
// collectives inside need all ranks), and the run fails when a test failed on any rank. Each
// collective's deadline is short (RETORT_DIST_TIMEOUT, set by ctest), so a rank that fails
// between collectives makes the others fail with a timeout error instead of hanging.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <vector>

#include "dist/process_group.h"

int main(int argc, char** argv) {
  return retort::dist::run_guarded([&] {
    auto& pg = retort::dist::ProcessGroup::world();
    const int failed = Catch::Session().run(argc, argv);
    retort::Tensor t = retort::from_vector(std::vector<std::int64_t>{failed > 0 ? 1 : 0}, {1});
    pg.all_reduce(t);
    const std::int64_t ranks_failed = t.item<std::int64_t>();
    if (ranks_failed > 0 && pg.is_main())
      std::fprintf(stderr, "MPI test: %lld of %d ranks failed\n", static_cast<long long>(ranks_failed), pg.size());
    return ranks_failed > 0 ? 1 : 0;
  });
}
