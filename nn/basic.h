// Parameter-free layers (ReLU, Dropout, Flatten, Identity) and the Sequential container.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "nn/module.h"
#include "tensor/error.h"

namespace retort::nn {

// y = max(x, 0), any shape.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU"; }
};

// Training: zeroes each element with probability p and scales the others by 1/(1 − p)
// (global generator, tensor/random.h). Eval: identity. Any shape.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  double p;
};

// Merges dims start_dim..end_dim into one: [N, C, H, W] → [N, C·H·W] with the defaults.
class Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1)
      : start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Flatten"; }
  std::string extra_repr() const override;
  std::int64_t start_dim, end_dim;
};

// y = x (a placeholder, e.g. to replace a layer while keeping the state-dict names of others).
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Identity"; }
};

// Sequential: children named "0", "1", ... called in order, y = m_{k−1}(…m_1(m_0(x))).
// Each child is called through operator(), so every one of them can be tapped
// ("features.3").
// Children run in order, with three exact rewrites of unhooked, untapped children (nothing can
// observe the intermediate they change): while a graph is recorded, a ReLU directly followed by
// a MaxPool2d runs as max_pool2d then relu (the same values and gradients; relu's backward on the
// pooled activation only); otherwise a Conv2d directly followed by a ReLU runs as one fused
// conv2d_relu node, and a BatchNorm2d directly followed by a ReLU as one batch_norm_relu node
// (the same values and gradients, one pass over the activation less).
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);

  // Appends m under the name std::to_string(size()).
  void push_back(std::shared_ptr<Module> m);
  std::size_t size() const { return named_children().size(); }
  // The i-th child; throws when i ≥ size().
  std::shared_ptr<Module> operator[](std::size_t i) const;
  // The i-th child as an M (throws when it is another type).
  template <class M>
  std::shared_ptr<M> at(std::size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    RETORT_CHECK(m != nullptr, "Sequential::at: child ", i, " is a ", (*this)[i]->type_name(),
                 ", not the requested type");
    return m;
  }

  Tensor forward(const Tensor& x) override;
  // relu(forward(x)) without this module's hooks, the relu fused into the last child when that is
  // an unhooked Conv2d or BatchNorm2d (a model whose ReLU follows a Sequential block, as vgg's,
  // calls it when neither the block nor its ReLU is tapped).
  Tensor forward_relu(const Tensor& x);
  std::string type_name() const override { return "Sequential"; }

 private:
  Tensor run(const Tensor& x, bool relu_after);
};

// make_sequential(a, b, c) == std::make_shared<Sequential>({a, b, c}) for any module types.
template <class... M>
std::shared_ptr<Sequential> make_sequential(std::shared_ptr<M>... modules) {
  return std::make_shared<Sequential>(
      std::vector<std::shared_ptr<Module>>{std::static_pointer_cast<Module>(modules)...});
}

}  // namespace retort::nn
