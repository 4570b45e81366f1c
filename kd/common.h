// Shared pieces of the distillation losses (namespace retort::kd): argument checks whose errors
// name the loss and both shapes, and the few building blocks every family uses, all composed of
// differentiable ops so the losses need no hand-written backward.
#pragma once
#include <cstdint>
#include <string>

#include "tensor/tensor.h"

namespace retort::kd {

// Throws "<op>: student <what> [..] and teacher <what> [..] must have the same shape".
void check_same_shape(const char* op, const Tensor& s, const Tensor& t, const char* what);
// Throws unless x has `rank` dims: "<op>: <what> [..] must be <rank>-D (<layout>)".
void check_rank(const char* op, const Tensor& x, std::int64_t rank, const char* what,
                const char* layout);
// Throws unless student and teacher have the same batch size N = size(0) (and are ≥ 2-D).
void check_same_batch(const char* op, const Tensor& s, const Tensor& t);

// Throws unless the temperature is finite and > 0: "<op>: temperature T must be finite and > 0".
void check_temperature(const char* op, double T);

// torch.nn.functional.normalize(x, p=2, dim, eps): x / max(‖x‖₂, eps) along dim. Computed as
// x / sqrt(max(Σx², eps²)) so that an all-zero slice (RKD's i = j differences) has value 0 and a
// finite gradient instead of the 0/0 of d‖x‖/dx at x = 0: the clamp removes the norm's part, the
// numerator's part g/eps remains (torch's clamp_min behaves the same).
Tensor l2_normalize(const Tensor& x, std::int64_t dim, double eps = 1e-12);

// [N, ...] → [N, D] with D the product of the other dims.
Tensor flatten_batch(const Tensor& x);

// The square identity mask [N, N] of x's dtype (not differentiable).
Tensor eye_like(std::int64_t n, const Tensor& like);

}  // namespace retort::kd
