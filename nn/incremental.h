// A growing classifier head for class-incremental learning: grow_linear adds output classes to a
// Linear while keeping the rows of the classes it already has.
//
//   grow_linear(fc, k): weight [OUT, IN] → [OUT + k, IN], bias [OUT] → [OUT + k];
//     rows 0..OUT−1 are the old rows, unchanged (the old classes' logits are unchanged for every
//     input); rows OUT..OUT+k−1 get Linear's default initialisation, U(−1/√IN, 1/√IN) for the
//     weight and the bias (drawn from gen, or the global generator), on the layer's device and
//     dtype; fc.out_features += k.
//
// The parameter Tensors keep their identity (the new data go behind the same TensorImpl, as
// Module::to does), so a module's parameters() and state-dict names are unchanged; their
// gradients are cleared. An optimiser that holds per-parameter state (Adam's moments, momentum
// buffers) has state of the old shape: build a new optimiser after growing. Needs k ≥ 1.
#pragma once
#include <cstdint>

#include "nn/linear.h"
#include "tensor/random.h"

namespace retort::nn {

void grow_linear(Linear& fc, std::int64_t k, Generator* gen = nullptr);

}  // namespace retort::nn
