// Anomaly mode: a NaN/Inf guard over the recorded ops, like torch.autograd.detect_anomaly.
//
// While it is on, every differentiable op's forward output (whether or not a graph node is built:
// an op under NoGradGuard is checked too) and every gradient a backward function returns for an
// input that receives one are tested with ops::all_finite on the tensor's own device. The first
// non-finite value throws retort::Error naming the op, forward or backward, and the shapes:
//
//   anomaly: forward of log produced NaN in its output [4,5] (inputs [4,5]): 3 of 20 elements
//   anomaly: backward of sqrt produced inf in its gradient for input 0 [3] (inputs [3]): 1 of 3
//            elements
//
// Because each op's output is checked as it is made, the op a forward error names is the one that
// created the value from finite inputs. When an input already held one (a parameter, the data, or
// a value made by raw ops:: calls outside the recorded ops), the message says so and names that
// input instead. The gradient reaching a node (the sum of its consumers' gradients) and the
// gradient passed to backward() are checked too.
//
// The switch is per thread, like grad mode: the thread that runs the forward and calls backward()
// must turn it on; a thread started later does not inherit it. Off by default. Off, it costs one
// test of a thread-local flag per recorded op and one per backward() call. On, every op output and
// every gradient is read once more (and oneDNN's deferred blocked results are reordered to plain
// memory when checked), so it is for finding a NaN, not for timed runs.
//
//   {
//     autograd::AnomalyGuard anomaly;   // on for this scope; the previous state comes back after
//     loss = model(x); loss.backward();
//   }
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace retort::autograd {

class Node;

bool detect_anomaly();              // this thread's state
void set_detect_anomaly(bool on);   // this thread's state

// Sets anomaly mode for a scope (on by default) and restores the previous state on exit, also
// when an exception leaves the scope.
class AnomalyGuard {
 public:
  explicit AnomalyGuard(bool on = true) : prev_(detect_anomaly()) { set_detect_anomaly(on); }
  ~AnomalyGuard() { set_detect_anomaly(prev_); }
  AnomalyGuard(const AnomalyGuard&) = delete;
  AnomalyGuard& operator=(const AnomalyGuard&) = delete;

 private:
  bool prev_;
};

// The checks themselves (called by record() and the backward engine while the mode is on).
// The inputs' shapes as text, "[4,5], -, [5]" (- for an undefined input).
std::string input_shapes_text(const std::vector<Tensor>& inputs);
// Forward: throws when `output` of op `op` holds a NaN or an infinity.
void check_forward(const char* op, const std::vector<Tensor>& inputs, const Tensor& output);
// Backward: throws when grads[i] of `node`'s backward, for an input i that receives a gradient
// (an edge to a node or a leaf), holds a NaN or an infinity.
void check_backward(const Node& node, const std::vector<Tensor>& grads);
// The gradient entering `node`'s backward (the sum of its consumers' contributions).
void check_incoming(const Node& node, const Tensor& grad_output);
// The gradient handed to backward() for `root`.
void check_root_gradient(const Tensor& root, const Tensor& gradient);

}  // namespace retort::autograd
