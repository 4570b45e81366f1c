// Node bookkeeping, iterative graph destruction, and record(): the one place where the graph is
// extended, and so where anomaly mode checks every op's forward output. The per-thread switches
// (grad mode, anomaly mode) live here so that record() reads them directly.
#include "autograd/node.h"

#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"

namespace retort {

namespace {
thread_local bool g_grad_enabled = true;
thread_local bool g_detect_anomaly = false;
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
void set_grad_enabled(bool on) { g_grad_enabled = on; }

namespace autograd {

bool detect_anomaly() { return g_detect_anomaly; }
void set_detect_anomaly(bool on) { g_detect_anomaly = on; }

namespace {

// What dropping one node may drop in turn: its producers, and its backward function (whose
// captured tensors can own other nodes through their grad_fn).
struct DropList {
  std::vector<std::shared_ptr<Node>> nodes;
  std::vector<BackwardFn> fns;
};
// This thread's active work list (a DropScope's, on the outermost destructor's stack), or null.
// A plain pointer, so there is no thread_local object to be destroyed before a static tensor's
// graph at exit.
thread_local DropList* t_drop = nullptr;

// Empties `list` one element at a time. Each element is moved to a local before it dies, so the
// nested destructors may push onto the vectors while nothing of them is being destroyed.
void drain(DropList& list) {
  while (!list.nodes.empty() || !list.fns.empty()) {
    if (!list.fns.empty()) {
      BackwardFn fn = std::move(list.fns.back());
      list.fns.pop_back();
    } else {
      std::shared_ptr<Node> n = std::move(list.nodes.back());
      list.nodes.pop_back();
    }
  }
}

// Makes a work list this thread's for its lifetime, then empties it: while it is active, a node
// whose last reference goes only queues what it owns instead of destroying it.
class DropScope {
 public:
  DropScope() { t_drop = &list_; }
  ~DropScope() {
    drain(list_);
    t_drop = nullptr;
  }
  DropScope(const DropScope&) = delete;
  DropScope& operator=(const DropScope&) = delete;

 private:
  DropList list_;
};

}  // namespace

Node::Node(std::string name, std::vector<Edge> inputs, BackwardFn fn, const Tensor& output)
    : name_(std::move(name)),
      inputs_(std::move(inputs)),
      fn_(std::move(fn)),
      output_(output.impl()),
      output_sizes_(output.sizes()),
      output_dtype_(output.dtype()) {}

// A recursive destructor would use stack in proportion to the graph's depth (a million-op chain
// overflows the default 8 MB stack). Instead the outermost ~Node on a thread activates a work list
// and drops its own producers and backward function in place; every node that dies meanwhile only
// moves its own onto the list, which the outermost one then empties in a loop. The list allocates
// only when such a nested node exists.
Node::~Node() {
  if (DropList* list = t_drop) {
    for (Edge& e : inputs_)
      if (e.node) list->nodes.push_back(std::move(e.node));
    if (fn_) list->fns.push_back(std::move(fn_));
    fn_ = nullptr;
    return;
  }
  DropScope scope;
  fn_ = nullptr;
  for (Edge& e : inputs_) e.node.reset();
}

void Node::check_live() const {
  RETORT_CHECK(!released_, "backward: the graph through '", name_,
               "' was already freed by an earlier backward; pass retain_graph=true to the first "
               "backward to go through it twice");
}

Grads Node::apply(const Tensor& grad_output) {
  check_live();
  return fn_(grad_output);
}

void Node::release() {
  // Through the work list too: the captured tensors may hold the last reference to a deep graph
  // (a saved input whose producers nothing else keeps).
  released_ = true;
  if (DropList* list = t_drop) {
    if (fn_) list->fns.push_back(std::move(fn_));
    fn_ = nullptr;
    return;
  }
  DropScope scope;
  fn_ = nullptr;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

namespace {

// record()'s body, taking over `output` and `fn`. Inlined into both callers, so that with anomaly
// mode off record() is this body behind one test.
[[gnu::always_inline]] inline Tensor attach(const char* name, const std::vector<Tensor>& inputs, Tensor& output,
                                            BackwardFn& fn) {
  if (!needs_grad(inputs)) return std::move(output);
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
  return std::move(output);
}

// record() in anomaly mode: the output is checked before a node is attached, and the node keeps
// its inputs' shapes for the backward check's message.
Tensor attach_checked(const char* name, const std::vector<Tensor>& inputs, Tensor output, BackwardFn fn) {
  check_forward(name, inputs, output);
  Tensor y = attach(name, inputs, output, fn);
  if (y.grad_fn()) y.grad_fn()->set_input_shapes(input_shapes_text(inputs));
  return y;
}

}  // namespace

// Off, anomaly mode costs this one test of a thread-local flag.
Tensor record(const char* name, const std::vector<Tensor>& inputs, Tensor output, BackwardFn fn) {
  if (g_detect_anomaly) [[unlikely]]
    return attach_checked(name, inputs, std::move(output), std::move(fn));
  return attach(name, inputs, output, fn);
}

Tensor Window::scatter(const Tensor& g) const {
  Tensor z = zeros(input_sizes, g.dtype(), g.device());
  pick(z).copy_(g);
  return z;
}

Tensor record_window(const char* name, const Tensor& x, Tensor output, Window window) {
  auto w = std::make_shared<const Window>(std::move(window));
  Tensor y = record(name, {x}, std::move(output),
                    [w](const Tensor& g) { return Grads{w->scatter(g)}; });
  if (y.grad_fn()) y.grad_fn()->set_window(std::move(w));
  return y;
}

}  // namespace autograd
}  // namespace retort
