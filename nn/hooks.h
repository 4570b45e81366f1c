// Forward hooks and feature taps: reading what a module sees and produces during a forward pass
// without rewriting the model (feature-based knowledge distillation reads a teacher's and a
// student's intermediate features this way).
//
//   auto tap = model->tap("features.7");           // any dotted module path (Module::tap)
//   Tensor logits = (*model)(x);                   // operator() runs forward and the hooks
//   Tensor f = tap.output();                       // features.7's output in this forward,
//   [N,C,H,W] Tensor loss = mse_loss(f, target_features);    // f is a graph node: gradients flow
//   through it
//
// A hook is called as fn(module, input, output) right after module.forward(input) returned
// output, only when the module is called through Module::operator() (Sequential and the seed
// nets call their children that way). The tensors passed are the very graph tensors of the
// forward pass: keeping one keeps its activations (and the graph behind it) alive until released.
//
// Lifetimes: register_forward_hook returns a HookHandle; the hook stays installed while the
// handle lives (or until handle.remove()), and the handle may safely outlive the module.
// A FeatureTap owns its HookHandle, so dropping the tap uninstalls it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace retort::nn {

class Module;

using ForwardHook =
    std::function<void(const Module& module, const Tensor& input, const Tensor& output)>;

namespace detail {
// The hooks of one module, in registration order. Held by shared_ptr so handles can hold it
// weakly and outlive the module.
struct HookList {
  std::uint64_t next_id = 0;
  std::vector<std::pair<std::uint64_t, ForwardHook>> hooks;
  void run(const Module& m, const Tensor& in, const Tensor& out) const;
};
}  // namespace detail

// RAII registration of one hook: move-only; destroying it (or remove()) uninstalls the hook.
class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(std::weak_ptr<detail::HookList> list, std::uint64_t id)
      : list_(std::move(list)), id_(id) {}
  ~HookHandle() { remove(); }
  HookHandle(HookHandle&& o) noexcept : list_(std::move(o.list_)), id_(o.id_) { o.list_.reset(); }
  HookHandle& operator=(HookHandle&& o) noexcept;
  HookHandle(const HookHandle&) = delete;
  HookHandle& operator=(const HookHandle&) = delete;

  // Uninstalls the hook (no-op when already removed or the module is gone).
  void remove();
  // True while the hook is installed on a live module.
  bool active() const;

 private:
  std::weak_ptr<detail::HookList> list_;
  std::uint64_t id_ = 0;
};

// The input and output of one module in the latest forward pass that reached it. Made by
// Module::tap(path); move-only; uninstalls itself when destroyed.
class FeatureTap {
 public:
  FeatureTap() = default;
  FeatureTap(FeatureTap&&) noexcept = default;
  FeatureTap& operator=(FeatureTap&&) noexcept = default;

  // The tapped module's output / input of the latest forward; throws (naming the path) when no
  // forward reached the module since the tap was made or cleared.
  const Tensor& output() const;
  const Tensor& input() const;
  bool has_value() const { return state_ && state_->output.defined(); }
  const std::string& path() const;
  // Drops the stored tensors (releases the activations they keep alive); the tap stays installed.
  void clear();
  // Uninstalls the hook and drops the stored tensors.
  void remove();

 private:
  friend class Module;
  struct State {
    std::string path;
    Tensor input, output;
  };
  std::shared_ptr<State> state_;
  HookHandle handle_;
};

}  // namespace retort::nn
