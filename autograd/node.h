// The recorded graph. Each differentiable op that sees an input requiring grad creates one Node
// for its (single) output: the node keeps the op's name, an edge per input, and a backward
// function  grad_output -> {grad_input_0, grad_input_1, ...}  (an undefined Tensor for an input
// that gets no gradient). Leaves (parameters, tensors made with set_requires_grad) have no node;
// their edge points straight at the leaf and the engine accumulates into leaf.grad().
//
// Writing an op (see docs/architecture.md):
//   Tensor relu(const Tensor& x) {
//     Tensor y = ops::relu(x);                       // raw kernel through the dispatch point
//     return autograd::record("relu", {x}, y, [ys = autograd::saved_output(y)](const Tensor& g) {
//       return autograd::Grads{ops::relu_backward(g, ys)};
//     });
//   }
// A backward that needs the op's own output must capture saved_output(y), never y itself: y owns
// the node, so capturing y would make a reference cycle and leak graphs that never run backward.
// record() only builds a node when grad mode is on and some input requires grad; otherwise it
// returns y untouched, so inference pays nothing.
//
// Dropping a graph is iterative: a node's destructor hands its producers (edges) and its backward
// function (whose captured tensors may own further nodes) to a per-thread work list that the
// outermost destructor empties in a loop, so a chain of any length is freed in constant stack
// depth.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace retort::autograd {

using Grads = std::vector<Tensor>;
using BackwardFn = std::function<Grads(const Tensor& grad_output)>;

// What a view op that takes a window of its one input (narrow, slice, select) keeps besides its
// backward function: the input's sizes and the view maker, input-shaped tensor → the same view.
struct Window {
  Shape input_sizes;
  std::function<Tensor(const Tensor& input_shaped)> pick;
  // The input-sized gradient for g: zeros except pick's window, which holds g.
  Tensor scatter(const Tensor& g) const;
};

struct Edge {
  std::shared_ptr<Node> node;       // producer of this input, or null for a leaf / constant
  std::shared_ptr<TensorImpl> leaf;  // the leaf to accumulate into (when node is null)
};

class Node {
 public:
  Node(std::string name, std::vector<Edge> inputs, BackwardFn fn, const Tensor& output);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<Edge>& inputs() const { return inputs_; }
  // Runs the backward function; throws when the graph was already freed by an earlier backward.
  Grads apply(const Tensor& grad_output);
  // Drops the backward function and everything it captured (saved tensors).
  void release();
  bool released() const { return released_; }
  // The output this node produced (weak: the graph does not keep activations alive by itself).
  std::shared_ptr<TensorImpl> output() const { return output_.lock(); }
  const Shape& output_sizes() const { return output_sizes_; }
  DType output_dtype() const { return output_dtype_; }
  // The forward inputs' shapes as text ("[4,5], -, [5]"; - for an undefined input), kept only for
  // nodes recorded in anomaly mode (autograd/anomaly.h) so its backward errors can name them;
  // empty otherwise.
  const std::string& input_shapes() const { return input_shapes_; }
  void set_input_shapes(std::string text) { input_shapes_ = std::move(text); }
  // The window of a node made by record_window; null for every other node.
  const Window* window() const { return window_.get(); }
  void set_window(std::shared_ptr<const Window> w) { window_ = std::move(w); }
  // Throws when release() has run (what apply() checks first).
  void check_live() const;

 private:
  std::string name_;
  std::vector<Edge> inputs_;
  BackwardFn fn_;
  std::weak_ptr<TensorImpl> output_;
  Shape output_sizes_;
  DType output_dtype_;
  std::string input_shapes_;
  std::shared_ptr<const Window> window_;
  bool released_ = false;
};

// An alias of an op's output (same storage, its own TensorImpl) for its backward to keep.
inline Tensor saved_output(const Tensor& y) { return as_strided(y, y.sizes(), y.strides(), y.offset()); }

// True when grad mode is on and any input requires grad.
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a node to `output` when needs_grad(inputs); returns output either way.
Tensor record(const char* name, const std::vector<Tensor>& inputs, Tensor output, BackwardFn fn);

// record() for `output`, the view window.pick(x) of x. Its backward scatters the gradient into
// zeros of x's shape; the engine instead adds it straight into that window of an x-sized buffer
// it owns when x has a node (autograd/engine.cpp), so k windows of one tensor cost one zero fill
// and no x-sized additions.
Tensor record_window(const char* name, const Tensor& x, Tensor output, Window window);

}  // namespace retort::autograd
