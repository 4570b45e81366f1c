// Module: the base of every layer and model (namespace retort::nn), shaped like torch.nn.Module.
//
// A module owns named parameters (trainable leaf tensors), named buffers (state that is saved but
// not trained, e.g. BatchNorm's running statistics) and named child modules, all kept in
// registration order. Modules are held by std::shared_ptr (children are shared_ptr, and hooks
// and taps refer back to them) and are neither copyable nor movable.
//
// Names and order match PyTorch: named_parameters() yields "features.0.weight",
// "features.0.bias", ... — a module's own parameters first, then each child's recursively —
// and state_dict() yields, per module, its parameters, then its persistent buffers, then its
// children. So a Retort model and the equivalent PyTorch model have identical state_dict keys
// in identical order, and checkpoints (nn/serialization.h) are interchangeable.
//
// Tensor identity: parameters are never replaced by new Tensor handles. to(Device), to(DType)
// and load_state_dict() change the data behind the existing TensorImpl (storage, strides,
// dtype), so a Tensor captured earlier (a layer's `weight` member, an optimiser's parameter
// list) keeps referring to the live parameter.
//
// Calling: operator()(x) runs forward(x) and then the module's forward hooks (nn/hooks.h); call
// children through operator() inside forward() so they can be tapped.
//
// Writing a model:
//   struct Net : Module {
//     std::shared_ptr<Linear> fc = register_module("fc", std::make_shared<Linear>(4, 2));
//     Tensor forward(const Tensor& x) override { return (*fc)(x); }
//     std::string type_name() const override { return "Net"; }
//   };
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "nn/hooks.h"
#include "tensor/tensor.h"

namespace retort::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;  // registration order
using TensorMap = std::map<std::string, Tensor>;                   // a loaded state dict
using NamedModules = std::vector<std::pair<std::string, std::shared_ptr<Module>>>;

class Module : public std::enable_shared_from_this<Module> {
 public:
  Module();
  virtual ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The computation: x → y. The base version throws (a module without forward is a container).
  virtual Tensor forward(const Tensor& x);
  // forward(x), then every forward hook with (this, x, y); returns y.
  Tensor operator()(const Tensor& x);

  // Printable form, as PyTorch prints modules: "Linear(in_features=4, out_features=2, bias=True)",
  // containers one child per line, indented, as "(name): child".
  virtual std::string type_name() const { return "Module"; }
  virtual std::string extra_repr() const { return ""; }
  std::string repr() const;

  // ---- Registration (call from the constructor). Names are non-empty, without '.', unique
  // within the module across parameters, buffers and children.
  // Makes t a leaf that requires grad (unless requires_grad is false); returns the same handle.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  // A non-persistent buffer moves with to() but is left out of state_dict().
  Tensor register_buffer(const std::string& name, Tensor t, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // Puts m in the place of the registered child `name` (same name, same position) and returns the
  // child it replaced; throws naming the valid children when there is none by that name. Only
  // code that reaches the child through this module's child list (Sequential, submodule(), the
  // hooks) sees the new one: a model that also keeps the old child in a member still calls that.
  std::shared_ptr<Module> replace_module(const std::string& name, std::shared_ptr<Module> m);

  // ---- Introspection. Paths are dotted ("features.3.weight"); order as in the header comment.
  NamedTensors named_parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;  // persistent and not
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  // Parameters and persistent buffers, exactly PyTorch's state_dict() keys and order.
  NamedTensors state_dict() const;
  const NamedModules& named_children() const { return children_; }
  std::vector<std::shared_ptr<Module>> children() const;
  // Every descendant (not this module), depth first, parents before children.
  NamedModules named_modules() const;
  // The descendant at a dotted path ("features.7"); throws naming the path and the valid paths.
  std::shared_ptr<Module> submodule(const std::string& path) const;
  // Total element count of the parameters (only those requiring grad when trainable_only).
  std::int64_t num_parameters(bool trainable_only = false) const;

  // ---- Modes and state.
  // Sets training mode here and in every descendant (Dropout, BatchNorm read it). Virtual so a
  // model can pin a part of itself (e.g. keep a frozen backbone in eval) after the recursion.
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Freezes (false) or unfreezes every parameter.
  void requires_grad_(bool on = true);
  // Clears every parameter's gradient: undefined when set_to_none (PyTorch's default), else 0.
  void zero_grad(bool set_to_none = true);
  // Moves every parameter, buffer and gradient to device, in place (identity kept).
  void to(Device device);
  // Converts floating parameters, buffers and gradients to dtype (float32/float64), in place;
  // int64 buffers (num_batches_tracked) stay int64, as in PyTorch's module.double().
  void to(DType dtype);

  // Copies a state dict into this module. First checks everything — with strict, that the keys
  // are exactly state_dict()'s (missing and unexpected keys are all listed); always, that every
  // shared key has the same shape and a convertible dtype — and only then copies (converting
  // dtype), so a failed load leaves the module unchanged.
  void load_state_dict(const TensorMap& state, bool strict = true);

  // ---- Hooks and taps (nn/hooks.h).
  HookHandle register_forward_hook(ForwardHook fn);
  // Whether a forward hook (or tap) is installed on this module itself.
  bool has_forward_hooks() const;
  // Records the input and output of the module at `path` ("" = this module) on every forward.
  FeatureTap tap(const std::string& path);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool params, bool bufs, bool persistent_only,
               bool recurse, NamedTensors& out) const;
  void repr_into(std::string& out, int indent) const;

  struct Buffer {
    std::string name;
    Tensor tensor;
    bool persistent;
  };
  NamedTensors params_;
  std::vector<Buffer> buffers_;
  NamedModules children_;
  bool training_ = true;
  std::shared_ptr<detail::HookList> hooks_;
};

inline std::ostream& operator<<(std::ostream& os, const Module& m) { return os << m.repr(); }

// Points dst's TensorImpl at src's data and layout (storage, sizes, strides, offset, dtype),
// keeping everything else in the impl (requires_grad, name, gradient, hooks): the in-place
// replacement behind the identity guarantee above, for to(), load_state_dict() and grow_linear.
void adopt_data(const Tensor& dst, const Tensor& src);

}  // namespace retort::nn
