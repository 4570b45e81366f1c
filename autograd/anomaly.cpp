// Anomaly mode's checks and messages. The flag itself lives in node.cpp beside grad mode, so that
// record() tests it without a call; everything here runs only while the mode is on.
//
// Finiteness is decided by ops::all_finite, which runs on the tensor's device. Only on the error
// path are the bad elements counted (NaN ≠ NaN; |x| < inf is false for NaN and ±inf), with raw ops
// that also exist on every device, so the message can say NaN or inf and how many.
#include "autograd/anomaly.h"

#include <limits>
#include <sstream>

#include "autograd/node.h"
#include "tensor/elementwise.h"
#include "tensor/error.h"
#include "tensor/reduce.h"

namespace retort::autograd {

namespace {

std::int64_t count(const Tensor& mask) {
  return static_cast<std::int64_t>(ops::sum(mask.to(kFloat64)).item<double>());
}

// "NaN: 3 of 20 elements are NaN" style pieces for a tensor known to hold a non-finite value.
struct Bad {
  std::string kind;    // "NaN", "inf" or "NaN and inf"
  std::string detail;  // "3 of 20 elements are NaN"
};

Bad describe(const Tensor& x) {
  const std::int64_t n = x.numel();
  const std::int64_t nan = count(ops::ne(x, x));
  const std::int64_t finite = count(ops::lt_scalar(ops::abs(x), std::numeric_limits<double>::infinity()));
  const std::int64_t inf = n - finite - nan;
  std::ostringstream d;
  Bad b;
  if (nan > 0 && inf > 0) {
    b.kind = "NaN and inf";
    d << nan << " of " << n << " elements are NaN, " << inf << " inf";
  } else {
    b.kind = nan > 0 ? "NaN" : "inf";
    d << (nan > 0 ? nan : inf) << " of " << n << " elements are " << b.kind;
  }
  b.detail = d.str();
  return b;
}

bool finite(const Tensor& t) { return !t.defined() || ops::all_finite(t); }

// Where an input that already held a non-finite value came from.
std::string origin(const Tensor& t) {
  if (t.grad_fn())
    return "the output of " + t.grad_fn()->name() +
           ", unchecked: made while anomaly mode was off, or changed in place since";
  return "a leaf or constant: a parameter, the data, or a value made outside the recorded ops";
}

// The node's inputs as text: the shapes recorded in anomaly mode, else what its edges know.
std::string node_inputs(const Node& node) {
  if (!node.input_shapes().empty()) return node.input_shapes();
  std::string s;
  for (const Edge& e : node.inputs()) {
    if (!s.empty()) s += ", ";
    if (e.node) s += shape_str(e.node->output_sizes());
    else if (e.leaf) s += shape_str(e.leaf->sizes);
    else s += "-";
  }
  return s;
}

}  // namespace

std::string input_shapes_text(const std::vector<Tensor>& inputs) {
  std::string s;
  for (const Tensor& t : inputs) {
    if (!s.empty()) s += ", ";
    s += t.defined() ? shape_str(t.sizes()) : "-";
  }
  return s;
}

void check_forward(const char* op, const std::vector<Tensor>& inputs, const Tensor& output) {
  if (finite(output)) return;
  const Bad b = describe(output);
  std::ostringstream m;
  m << "anomaly: forward of " << op << " produced " << b.kind << " in its output "
    << shape_str(output.sizes()) << " (inputs " << input_shapes_text(inputs) << "): " << b.detail;
  // Every checked op's output was finite, so a bad input was made before the checks saw it.
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (finite(inputs[i])) continue;
    m << "; its input " << i << " " << shape_str(inputs[i].sizes()) << " already held "
      << describe(inputs[i]).kind << " (" << origin(inputs[i]) << ")";
    break;
  }
  throw Error(m.str());
}

void check_backward(const Node& node, const std::vector<Tensor>& grads) {
  for (std::size_t i = 0; i < grads.size() && i < node.inputs().size(); ++i) {
    const Edge& e = node.inputs()[i];
    if (!(e.node || e.leaf) || finite(grads[i])) continue;
    const Bad b = describe(grads[i]);
    fail("anomaly: backward of ", node.name(), " produced ", b.kind, " in its gradient for input ",
         i, " ", shape_str(grads[i].sizes()), " (inputs ", node_inputs(node), "): ", b.detail);
  }
}

void check_incoming(const Node& node, const Tensor& grad_output) {
  if (finite(grad_output)) return;
  const Bad b = describe(grad_output);
  fail("anomaly: the gradient reaching the backward of ", node.name(), " holds ", b.kind, " in ",
       shape_str(grad_output.sizes()), " (inputs ", node_inputs(node), "): ", b.detail,
       "; each contribution was finite, so their sum overflowed");
}

void check_root_gradient(const Tensor& root, const Tensor& gradient) {
  if (finite(gradient)) return;
  const Bad b = describe(gradient);
  fail("anomaly: the gradient passed to backward() for ", shape_str(root.sizes()), " holds ",
       b.kind, ": ", b.detail);
}

}  // namespace retort::autograd
