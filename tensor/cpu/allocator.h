// CPU memory for tensor storage. Blocks of 64 KiB and more are cached by exact (rounded) size
// after release and handed out again: a training step allocates the same activation and
// gradient sizes every iteration, and reusing warm pages avoids the page faults (and kernel
// zeroing) of fresh mmap'd memory, which otherwise cost as much as the memory-bound ops
// themselves. Small blocks go straight to the aligned heap. All blocks are 64-byte aligned.
#pragma once
#include <cstddef>

namespace retort::cpu {

void* allocate(std::size_t nbytes);
void release(void* p, std::size_t nbytes);
// Frees every cached block (e.g. between phases with different shapes).
void empty_cache();
// Bytes currently held in the cache (not in use by tensors).
std::size_t cached_bytes();

// Allocation counter (for measuring what a piece of code allocates, e.g. kd/cost.h): bytes
// handed out by allocate() and not yet released — cached blocks do not count — and the peak of
// that since the last reset. Sizes are the rounded block sizes. Cost: one relaxed atomic add per
// call, and a compare-exchange only when the peak rises.
std::size_t allocated_bytes();
std::size_t peak_allocated_bytes();
// Sets the peak to the current allocated_bytes().
void reset_peak_allocated_bytes();

}  // namespace retort::cpu
