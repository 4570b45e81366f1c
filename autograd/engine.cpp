// The backward engine. Two passes: (1) an explicit-stack DFS from the root's node counts, for each
// node, how many edges in this graph point at it; (2) a ready queue processes a node only once all
// its consumers have contributed, so each backward function runs exactly once per call. In
// anomaly mode (read once per call) every gradient entering and leaving a backward function is
// checked for NaN/Inf (autograd/anomaly.h).
//
// Accumulation buffers. A node's incoming gradients are summed in grads[node]. A buffer the
// engine allocated itself (the result of an addition, or a window buffer below) is "owned": no
// backward function has seen it, so it may be written in place. Any other gradient may be a view
// that a backward function shares with other gradients (cat's backward returns windows of its
// upstream gradient) and is never written. A window node (narrow, slice, select: record_window)
// whose input has a node adds its gradient into that window of its input's buffer, made owned
// first (zeros when it is the first gradient, else a copy), instead of building an input-sized
// gradient of zeros and adding it: the split of a tensor into k views costs one zero fill.
#include "autograd/engine.h"

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "tensor/elementwise.h"

namespace retort {

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  autograd::backward(*this, gradient, retain_graph);
}

namespace autograd {

namespace {

void accumulate_into(TensorImpl& impl, const Tensor& g) {
  RETORT_CHECK(g.sizes() == impl.sizes, "backward: gradient ", shape_str(g.sizes()),
               " does not match tensor ", shape_str(impl.sizes));
  if (!impl.grad) {
    // Own a packed copy so later in-place accumulation never writes into a shared buffer.
    impl.grad = g.clone().impl();
  } else {
    ops::add_(Tensor(impl.grad), g);
  }
}

// The leaf hooks (autograd/grad_hooks.h), on a copy of the list so a hook may remove itself.
void run_leaf_hooks(const std::shared_ptr<TensorImpl>& leaf) {
  auto hooks = leaf->post_accumulate_hooks;
  const Tensor t(leaf);
  for (auto& [id, fn] : hooks) fn(t);
}

using GradMap = std::unordered_map<Node*, Tensor>;

// grads[to] += g placed by w.pick (see the file comment).
void add_into_window(GradMap& grads, std::unordered_set<Node*>& owned, Node* to, const Window& w,
                     const Tensor& g) {
  auto it = grads.find(to);
  if (it == grads.end()) {
    grads.emplace(to, w.scatter(g));
  } else {
    if (!owned.count(to)) it->second = it->second.clone();
    ops::add_(w.pick(it->second), g);
  }
  owned.insert(to);
}

}  // namespace

void backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  RETORT_CHECK(root.defined(), "backward: tensor is undefined");
  RETORT_CHECK(root.requires_grad(), "backward: tensor ", shape_str(root.sizes()),
               " does not require grad (no input of the computation requires grad, or it ran "
               "under no_grad)");
  Tensor g = gradient;
  if (!g.defined()) {
    RETORT_CHECK(root.numel() == 1, "backward: tensor of shape ", shape_str(root.sizes()),
                 " is not a scalar; pass a gradient of the same shape");
    g = ones(root.sizes(), root.dtype(), root.device());
  }
  RETORT_CHECK(g.sizes() == root.sizes(), "backward: gradient ", shape_str(g.sizes()),
               " does not match tensor ", shape_str(root.sizes()));
  const bool anomaly = detect_anomaly();
  if (anomaly) check_root_gradient(root, g);
  NoGradGuard no_grad;
  if (!root.grad_fn()) {
    accumulate_into(*root.impl(), g);
    if (!root.impl()->post_accumulate_hooks.empty()) run_leaf_hooks(root.impl());
    return;
  }

  // Leaves with hooks: how many edges of this graph reach each, and whether one brought a
  // gradient; the hooks run when the last edge has been processed, so they see the final sum.
  struct LeafCount {
    int edges = 0;
    bool got = false;
  };
  std::unordered_map<TensorImpl*, LeafCount> hooked;
  std::unordered_map<Node*, int> pending;
  std::vector<Node*> stack{root.grad_fn().get()};
  pending[root.grad_fn().get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& e : n->inputs()) {
      if (!e.node) {
        if (e.leaf && !e.leaf->post_accumulate_hooks.empty()) ++hooked[e.leaf.get()].edges;
        continue;
      }
      auto [it, fresh] = pending.try_emplace(e.node.get(), 0);
      ++it->second;
      if (fresh) stack.push_back(e.node.get());
    }
  }

  GradMap grads;
  std::unordered_set<Node*> owned;
  grads[root.grad_fn().get()] = g;
  std::vector<Node*> ready{root.grad_fn().get()};
  std::vector<Node*> visited;
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    visited.push_back(n);
    auto found = grads.find(n);
    Grads gin;
    if (found != grads.end()) {
      // A node no gradient reached (all its consumers returned none) is only walked through,
      // so the counts of the nodes below it still reach zero.
      Tensor gout = std::move(found->second);
      grads.erase(found);
      owned.erase(n);
      if (auto out = n->output(); out && out->retains_grad) accumulate_into(*out, gout);
      if (anomaly) check_incoming(*n, gout);
      // In anomaly mode every node runs its backward function, which check_backward inspects.
      if (const Window* w = n->window(); w && !anomaly && n->inputs()[0].node) {
        n->check_live();
        add_into_window(grads, owned, n->inputs()[0].node.get(), *w, gout);
      } else {
        gin = n->apply(gout);
        RETORT_CHECK(gin.size() == n->inputs().size(), "backward: node '", n->name(),
                     "' returned ", gin.size(), " gradients for ", n->inputs().size(), " inputs");
        if (anomaly) check_backward(*n, gin);
      }
    }
    for (std::size_t i = 0; i < n->inputs().size(); ++i) {
      const Edge& e = n->inputs()[i];
      bool has = i < gin.size() && gin[i].defined();
      if (e.node) {
        if (has) {
          auto it = grads.find(e.node.get());
          if (it == grads.end()) {
            grads.emplace(e.node.get(), gin[i]);
          } else {
            it->second = ops::add(it->second, gin[i]);
            owned.insert(e.node.get());
          }
        }
        if (--pending[e.node.get()] == 0) ready.push_back(e.node.get());
      } else if (e.leaf) {
        if (has) accumulate_into(*e.leaf, gin[i]);
        if (auto h = hooked.find(e.leaf.get()); h != hooked.end()) {
          h->second.got = h->second.got || has;
          if (--h->second.edges == 0 && h->second.got) run_leaf_hooks(e.leaf);
        }
      }
    }
  }
  if (!retain_graph)
    for (Node* n : visited) n->release();
}

}  // namespace autograd
}  // namespace retort
