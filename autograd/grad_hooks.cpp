// Registration of leaf hooks; the engine (engine.cpp) decides when they run. Ids come from one
// process-wide counter so an id never names two hooks, even on different tensors.
#include "autograd/grad_hooks.h"

#include <atomic>

namespace retort::autograd {

namespace {
std::atomic<std::uint64_t> g_next_id{1};
}

std::uint64_t register_post_accumulate_grad_hook(const Tensor& t, PostAccumulateGradHook fn) {
  RETORT_CHECK(t.defined(), "register_post_accumulate_grad_hook: tensor is undefined");
  RETORT_CHECK(t.is_leaf() && t.requires_grad(), "register_post_accumulate_grad_hook: tensor ",
               shape_str(t.sizes()), " is not a leaf that requires grad");
  RETORT_CHECK(static_cast<bool>(fn), "register_post_accumulate_grad_hook: empty function");
  const std::uint64_t id = g_next_id++;
  t.impl()->post_accumulate_hooks.emplace_back(id, std::move(fn));
  return id;
}

void remove_post_accumulate_grad_hook(const Tensor& t, std::uint64_t id) {
  if (!t.defined()) return;
  auto& hooks = t.impl()->post_accumulate_hooks;
  std::erase_if(hooks, [id](const auto& h) { return h.first == id; });
}

}  // namespace retort::autograd
