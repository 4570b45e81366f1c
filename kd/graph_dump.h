// Graphviz dump of the autograd graph behind one or more loss terms (namespace retort::kd), taken
// before backward (a backward without retain_graph frees the nodes but keeps their names, so a
// dump after it still shows the structure).
//
//   kd::NameMap names = kd::name_map({{"student", student->named_parameters()},
//                                      {"teacher", teacher->named_parameters()}});
//   kd::write_dot("step.dot", {{"ce", r.terms[0]}, {"kd", r.terms[1]}}, names);
//   kd::render_png("step.dot", "step.png");          // false when Graphviz `dot` is missing
//
// Drawing (edges point in the forward direction, input → consumer):
//   op node    box "op_name\n[N,K]" (the node's output shape), filled with the colour of the term
//              that reaches it, or white when several terms share it;
//   root       the op node of a term, bold border, plus a "note" node "term: <name>" in the
//              term's colour with an edge root → note;
//   leaf       ellipse labelled with its module path from `names` (e.g.
//              "student.features.0.weight\n[16,3,3,3]"), else TensorImpl::name, else "leaf";
//   constant   an input that carries no gradient (the engine records no tensor for it): grey
//              dashed ellipse "constant (no grad)". The teacher ran under no_grad, so teacher
//              outputs (and through them the teacher's parameters) show up only this way;
//   edges      solid when they carry gradient (from an op or a leaf), grey dashed from constants.
#pragma once
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nn/module.h"
#include "tensor/tensor.h"

namespace retort::kd {

// TensorImpl → display name.
using NameMap = std::unordered_map<const TensorImpl*, std::string>;
// Names "<prefix>.<path>" for each (prefix, named parameters) pair (prefix "" → "<path>").
NameMap name_map(const std::vector<std::pair<std::string, nn::NamedTensors>>& groups);

using NamedRoots = std::vector<std::pair<std::string, Tensor>>;

struct DotStats {
  int ops = 0, leaves = 0, constants = 0, edges = 0;
};

// The DOT text (digraph "autograd") of everything reachable from the roots; stats counts what it
// drew (edges exclude the root → note edges).
std::string to_dot(const NamedRoots& roots, const NameMap& names = {}, DotStats* stats = nullptr);
// Writes to_dot(...) to path; throws naming the path when it cannot be written.
void write_dot(const std::string& path, const NamedRoots& roots, const NameMap& names = {});
// True when the Graphviz `dot` program is on PATH.
bool dot_available();
// Runs `dot -Tpng dot_path -o png_path`; false when dot is missing or fails.
bool render_png(const std::string& dot_path, const std::string& png_path);

}  // namespace retort::kd
