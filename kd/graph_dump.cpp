// DOT dump: one walk per root (explicit stack, so deep graphs are fine) records which terms reach
// each node; nodes and edges are emitted once, after all walks, so a node shared by several terms
// gets one colour decision and each edge appears once.
#include "kd/graph_dump.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "autograd/node.h"
#include "tensor/atomic_file.h"
#include "tensor/error.h"

namespace retort::kd {

namespace {

const char* kPalette[] = {"#8dd3c7", "#fdb462", "#bebada", "#fb8072",
                          "#80b1d3", "#b3de69", "#fccde5", "#ffffb3"};

std::string colour(std::size_t term) { return kPalette[term % (sizeof(kPalette) / sizeof(*kPalette))]; }

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct Item {
  std::string id;
  std::set<std::size_t> terms;
};

}  // namespace

NameMap name_map(const std::vector<std::pair<std::string, nn::NamedTensors>>& groups) {
  NameMap m;
  for (const auto& [prefix, params] : groups)
    for (const auto& [path, t] : params)
      m[t.impl().get()] = prefix.empty() ? path : prefix + "." + path;
  return m;
}

std::string to_dot(const NamedRoots& roots, const NameMap& names, DotStats* stats) {
  DotStats st;
  std::map<const autograd::Node*, Item> ops;
  std::map<const TensorImpl*, Item> leaves;
  std::vector<const autograd::Node*> op_order;
  std::vector<const TensorImpl*> leaf_order;
  std::set<const autograd::Node*> expanded;  // nodes whose input edges were emitted
  std::ostringstream edges;

  auto leaf_item = [&](const TensorImpl* l) -> Item& {
    auto [it, fresh] = leaves.try_emplace(l);
    if (fresh) {
      it->second.id = "l" + std::to_string(leaf_order.size());
      leaf_order.push_back(l);
    }
    return it->second;
  };

  for (std::size_t r = 0; r < roots.size(); ++r) {
    const Tensor& root = roots[r].second;
    RETORT_CHECK(root.defined(), "write_dot: root '", roots[r].first, "' is undefined");
    if (!root.grad_fn()) {
      leaf_item(root.impl().get()).terms.insert(r);
      continue;
    }
    std::vector<const autograd::Node*> stack{root.grad_fn().get()};
    std::set<const autograd::Node*> seen{root.grad_fn().get()};
    while (!stack.empty()) {
      const autograd::Node* n = stack.back();
      stack.pop_back();
      auto [it, added] = ops.try_emplace(n);
      it->second.terms.insert(r);
      if (added) it->second.id = "n" + std::to_string(op_order.size()), op_order.push_back(n);
      const bool fresh = expanded.insert(n).second;
      const std::string me = it->second.id;
      for (const auto& e : n->inputs()) {
        if (e.node) {
          if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
        } else if (e.leaf) {
          leaf_item(e.leaf.get()).terms.insert(r);
        }
        // Edges belong to the node: emit them on its first visit only.
        if (!fresh) continue;
        if (e.node) {
          auto [pit, pfresh] = ops.try_emplace(e.node.get());
          if (pfresh) pit->second.id = "n" + std::to_string(op_order.size()), op_order.push_back(e.node.get());
          edges << "  " << pit->second.id << " -> " << me << ";\n";
        } else if (e.leaf) {
          edges << "  " << leaf_item(e.leaf.get()).id << " -> " << me << ";\n";
        } else {
          std::string c = "c" + std::to_string(st.constants++);
          edges << "  " << c << " [label=\"constant (no grad)\", shape=ellipse, style=dashed, "
                << "color=grey60, fontcolor=grey50];\n  " << c << " -> " << me
                << " [style=dashed, color=grey60];\n";
        }
        ++st.edges;
      }
    }
  }

  std::ostringstream out;
  out << "digraph autograd {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  auto fill = [](const Item& it) {
    return it.terms.size() == 1 ? colour(*it.terms.begin()) : std::string("white");
  };
  for (const auto* n : op_order) {
    const Item& it = ops.at(n);
    out << "  " << it.id << " [label=\"" << escape(n->name() + "\n" + shape_str(n->output_sizes()))
        << "\", shape=box, style=filled, fillcolor=\"" << fill(it) << "\"];\n";
  }
  for (const auto* l : leaf_order) {
    const Item& it = leaves.at(l);
    auto found = names.find(l);
    std::string label = found != names.end() ? found->second : (l->name.empty() ? "leaf" : l->name);
    out << "  " << it.id << " [label=\"" << escape(label + "\n" + shape_str(l->sizes))
        << "\", shape=ellipse, style=filled, fillcolor=\"" << fill(it) << "\"];\n";
  }
  out << edges.str();
  for (std::size_t r = 0; r < roots.size(); ++r) {
    const Tensor& root = roots[r].second;
    std::string rid = root.grad_fn() ? ops.at(root.grad_fn().get()).id : leaves.at(root.impl().get()).id;
    out << "  t" << r << " [label=\"" << escape("term: " + roots[r].first)
        << "\", shape=note, style=filled, fillcolor=\"" << colour(r) << "\"];\n";
    out << "  " << rid << " [penwidth=3];\n";
    out << "  " << rid << " -> t" << r << " [color=\"" << colour(r) << "\", penwidth=2];\n";
  }
  out << "}\n";
  st.ops = static_cast<int>(op_order.size());
  st.leaves = static_cast<int>(leaf_order.size());
  if (stats) *stats = st;
  return out.str();
}

void write_dot(const std::string& path, const NamedRoots& roots, const NameMap& names) {
  write_file_atomically(path, to_dot(roots, names), "write_dot");
}

bool dot_available() { return std::system("command -v dot > /dev/null 2>&1") == 0; }

bool render_png(const std::string& dot_path, const std::string& png_path) {
  if (!dot_available()) return false;
  // Single quotes keep spaces and shell characters in the paths literal.
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  // dot writes a temporary file that replaces png_path only once dot succeeded: a failure (a full
  // disk) leaves no half-written PNG behind.
  const std::string tmp = temp_path_for(png_path);
  remove_stale_temp_files(png_path);
  std::string cmd = "dot -Tpng " + quote(dot_path) + " -o " + quote(tmp) + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  try {
    publish_file(tmp, png_path, "render_png");
  } catch (const Error&) {
    return false;
  }
  return true;
}

}  // namespace retort::kd
