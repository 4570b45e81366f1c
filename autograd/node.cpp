// Node bookkeeping and record(): the one place where the graph is extended.
#include "autograd/node.h"

#include "autograd/grad_mode.h"

namespace retort {

namespace {
thread_local bool g_grad_enabled = true;
}

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool on) { g_grad_enabled = on; }

namespace autograd {

Node::Node(std::string name, std::vector<Edge> inputs, BackwardFn fn, const Tensor& output)
    : name_(std::move(name)),
      inputs_(std::move(inputs)),
      fn_(std::move(fn)),
      output_(output.impl()),
      output_sizes_(output.sizes()),
      output_dtype_(output.dtype()) {}

Grads Node::apply(const Tensor& grad_output) {
  RETORT_CHECK(!released_, "backward: the graph through '", name_,
               "' was already freed by an earlier backward; pass retain_graph=true to the first "
               "backward to go through it twice");
  return fn_(grad_output);
}

void Node::release() {
  fn_ = nullptr;
  released_ = true;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(const char* name, const std::vector<Tensor>& inputs, Tensor output, BackwardFn fn) {
  if (!needs_grad(inputs)) return output;
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const auto& t : inputs) {
    Edge e;
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn()) e.node = t.grad_fn();
      else e.leaf = t.impl();
    }
    edges.push_back(std::move(e));
  }
  for (const auto& t : inputs)
    RETORT_CHECK(!t.same(output), name, ": returned one of its inputs; an op must return a new "
                 "tensor (a view is fine) so the graph node belongs to the result alone");
  auto node = std::make_shared<Node>(name, std::move(edges), std::move(fn), output);
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
  return output;
}

}  // namespace autograd
}  // namespace retort
