// A 2-rank training loop in which rank 1 fails at step 3 (tests/dist/check_faults.sh runs it
// under mpirun and checks how the job ends):
//   throw  rank 1 throws; run_guarded prints the error and aborts the job.
//   exit   rank 1 exits (status 3) without MPI_Finalize; mpirun stops the job.
//   hang   rank 1 stops calling collectives (sleeps 60 s); rank 0 times out after the group's
//          deadline (2 s here) with an error naming the collective, its rank and the tensor.
// Each step all-reduces a gradient-sized tensor as DataParallel would.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <unistd.h>

#include "dist/process_group.h"

using namespace retort;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  return dist::run_guarded([&] {
    dist::ProcessGroup& pg = dist::ProcessGroup::world();
    pg.set_timeout(2.0);
    Tensor grad = ones({64, 33}, kFloat32);
    for (int step = 0; step < 6; ++step) {
      if (pg.rank() == 1 && step == 3) {
        if (mode == "throw") throw Error("fault_main: rank 1 failed on purpose at step 3");
        if (mode == "exit") std::_Exit(3);
        if (mode == "hang") std::this_thread::sleep_for(std::chrono::seconds(60));
      }
      pg.all_reduce(grad, dist::ReduceOp::Avg);
    }
    if (pg.is_main()) std::printf("fault_main: all steps done\n");
    return 0;
  });
}
