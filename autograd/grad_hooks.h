// Post-accumulate-grad hooks on leaf tensors (torch's register_post_accumulate_grad_hook).
//
// A hook registered on a leaf that requires grad runs once per backward pass in which the leaf
// receives a gradient, right after the last gradient of that pass has been added into
// leaf.grad(): every edge of the graph that reaches the leaf has been processed, so grad() holds
// this pass's full contribution (plus whatever was accumulated before). It runs inside
// backward(), under no_grad, while the rest of the graph is still being processed — which is what
// lets data-parallel training start reducing a gradient before backward has finished
// (dist/data_parallel.h). A leaf that gets no gradient in a pass (not reached, or every path
// returned none) does not run its hooks. Hooks run in registration order; an exception thrown by
// one leaves backward() through it.
//
//   auto id = autograd::register_post_accumulate_grad_hook(w, [](const Tensor& w) { ... w.grad() ... });
//   autograd::remove_post_accumulate_grad_hook(w, id);
#pragma once
#include <cstdint>
#include <functional>

#include "tensor/tensor.h"

namespace retort::autograd {

using PostAccumulateGradHook = std::function<void(const Tensor& leaf)>;

// Throws naming the shape when t is undefined, not a leaf, or does not require grad. Returns an id
// for remove_post_accumulate_grad_hook.
std::uint64_t register_post_accumulate_grad_hook(const Tensor& t, PostAccumulateGradHook fn);
// Removes the hook with that id (no-op when it is not registered on t).
void remove_post_accumulate_grad_hook(const Tensor& t, std::uint64_t id);

}  // namespace retort::autograd
