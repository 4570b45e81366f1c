// Threads: oneDNN (Debian's build) runs on GNU OpenMP, so one omp_set_num_threads call sets both
// its pool and the OpenMP loops in Retort's own kernels.
#include "tensor/threads.h"

#include <omp.h>

namespace retort {

void set_num_threads(int n) {
  if (n > 0) omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace retort
