// Thread count for the CPU kernels (oneDNN's OpenMP pool and Retort's own parallel loops).
#pragma once

namespace retort {

void set_num_threads(int n);
int num_threads();

}  // namespace retort
