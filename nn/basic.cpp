// Parameter-free layers and Sequential (see basic.h).
#include "nn/basic.h"

#include <sstream>
#include <string>
#include <typeinfo>

#include "autograd/ops/elementwise.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/shape.h"
#include "autograd/grad_mode.h"
#include "nn/batchnorm.h"
#include "nn/linear.h"
#include "nn/pooling.h"

namespace retort::nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Dropout::Dropout(double p_) : p(p_) {
  RETORT_CHECK(p >= 0.0 && p < 1.0, "Dropout: p must be in [0, 1), got ", p);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training()); }

std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p << ", inplace=False";
  return os.str();
}

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim, end_dim); }

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

// Returning the input itself is fine here: no op is recorded, so the graph is untouched.
Tensor Identity::forward(const Tensor& x) { return x; }

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) {
  for (const auto& m : modules) push_back(m);
}

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& modules) {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> m) {
  register_module(std::to_string(size()), std::move(m));
}

std::shared_ptr<Module> Sequential::operator[](std::size_t i) const {
  RETORT_CHECK(i < size(), "Sequential: index ", i, " out of range for ", size(), " children");
  return named_children()[i].second;
}

namespace {

bool unhooked(const Module& m) { return !m.has_forward_hooks(); }

// ReLU then MaxPool2d, both unhooked, while recording a graph: run as max_pool2d then relu.
// Max pooling commutes with relu exactly (relu is monotone: both orders give max(0, max x) and
// route the gradient to the same element, or to none when the window's max is ≤ 0), and relu's
// backward then reads a quarter of the elements (2x2 pooling). Without a graph there is no
// backward to save, and Conv2d → ReLU is better fused into the convolution.
bool swappable(const Module& relu, const Module& pool) {
  return grad_enabled() && typeid(relu) == typeid(ReLU) && typeid(pool) == typeid(MaxPool2d) &&
         unhooked(relu) && unhooked(pool);
}

bool fusable(const Module& conv, const Module& next) {
  return typeid(conv) == typeid(Conv2d) && typeid(next) == typeid(ReLU) && unhooked(conv) &&
         unhooked(next);
}

bool bn_fusable(const Module& bn, const Module& next) {
  return typeid(bn) == typeid(BatchNorm2d) && typeid(next) == typeid(ReLU) && unhooked(bn) &&
         unhooked(next);
}

}  // namespace

Tensor Sequential::forward(const Tensor& x) { return run(x, false); }

Tensor Sequential::forward_relu(const Tensor& x) { return run(x, true); }

Tensor Sequential::run(const Tensor& x, bool relu_after) {
  Tensor y = x;
  const auto& children = named_children();
  auto child = [&](std::size_t i) -> Module& { return *children[i].second; };
  for (std::size_t i = 0; i < children.size(); ++i) {
    Module& m = child(i);
    if (relu_after && i + 1 == children.size() && unhooked(m) &&
        (typeid(m) == typeid(Conv2d) || typeid(m) == typeid(BatchNorm2d))) {
      return typeid(m) == typeid(Conv2d) ? static_cast<Conv2d&>(m).forward_relu(y)
                                         : static_cast<BatchNorm2d&>(m).forward_relu(y);
    }
    if (i + 1 < children.size() && swappable(m, child(i + 1))) {
      y = child(i + 1)(y);
      y = m(y);
      ++i;
    } else if (i + 1 < children.size() && fusable(m, child(i + 1)) &&
               !(i + 2 < children.size() && swappable(child(i + 1), child(i + 2)))) {
      y = static_cast<Conv2d&>(m).forward_relu(y);
      ++i;
    } else if (i + 1 < children.size() && bn_fusable(m, child(i + 1))) {
      y = static_cast<BatchNorm2d&>(m).forward_relu(y);
      ++i;
    } else {
      y = m(y);
    }
  }
  return relu_after ? retort::relu(y) : y;
}

}  // namespace retort::nn
