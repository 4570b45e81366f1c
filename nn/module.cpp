// Module registration, introspection, modes, printing and hooks (see module.h). State changes
// that touch tensor data (to, zero_grad, load_state_dict) live in module_state.cpp.
#include "nn/module.h"

#include <sstream>

#include "tensor/error.h"

namespace retort::nn {

Module::Module() : hooks_(std::make_shared<detail::HookList>()) {}
Module::~Module() = default;

Tensor Module::forward(const Tensor&) {
  fail(type_name(),
       "::forward: this module has no forward(); it is only a container of its "
       "children (call them directly)");
}

Tensor Module::operator()(const Tensor& x) {
  Tensor y = forward(x);
  if (!hooks_->hooks.empty()) hooks_->run(*this, x, y);
  return y;
}

bool Module::has_forward_hooks() const { return !hooks_->hooks.empty(); }

// ---- Registration ----------------------------------------------------------------------

void Module::check_new_name(const std::string& name, const char* what) const {
  RETORT_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name(), "::", what,
               ": invalid name '", name, "' (must be non-empty and contain no '.')");
  bool taken = false;
  for (const auto& p : params_) taken |= p.first == name;
  for (const auto& b : buffers_) taken |= b.name == name;
  for (const auto& c : children_) taken |= c.first == name;
  RETORT_CHECK(!taken, type_name(), "::", what, ": name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_new_name(name, "register_parameter");
  RETORT_CHECK(t.defined(), type_name(), "::register_parameter: '", name, "' is undefined");
  RETORT_CHECK(t.is_leaf(), type_name(), "::register_parameter: '", name,
               "' is the result of an op; parameters must be leaf tensors (detach it first)");
  t.set_requires_grad(requires_grad);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t, bool persistent) {
  check_new_name(name, "register_buffer");
  RETORT_CHECK(t.defined(), type_name(), "::register_buffer: '", name, "' is undefined");
  buffers_.push_back({name, t, persistent});
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name, "register_module");
  RETORT_CHECK(m != nullptr, type_name(), "::register_module: '", name, "' is null");
  RETORT_CHECK(m.get() != this, type_name(), "::register_module: '", name,
               "' is the module itself");
  children_.emplace_back(name, std::move(m));
}

std::shared_ptr<Module> Module::replace_module(const std::string& name, std::shared_ptr<Module> m) {
  RETORT_CHECK(m != nullptr, type_name(), "::replace_module: '", name, "' replacement is null");
  RETORT_CHECK(m.get() != this, type_name(), "::replace_module: '", name, "' is the module itself");
  std::string names;
  for (auto& [n, c] : children_) {
    if (n == name) {
      std::swap(c, m);
      return m;
    }
    names += (names.empty() ? "" : ", ") + n;
  }
  fail(type_name(), "::replace_module: no child '", name, "' (children: ", names, ")");
}

// ---- Introspection -----------------------------------------------------------------------

// One walk serves named_parameters, named_buffers and state_dict so the order is the same
// everywhere: own parameters, own buffers, then children depth first (PyTorch's order).
void Module::collect(const std::string& prefix, bool params, bool bufs, bool persistent_only,
                     bool recurse, NamedTensors& out) const {
  if (params)
    for (const auto& [n, t] : params_) out.emplace_back(prefix + n, t);
  if (bufs)
    for (const auto& b : buffers_)
      if (b.persistent || !persistent_only) out.emplace_back(prefix + b.name, b.tensor);
  if (!recurse) return;
  for (const auto& [n, c] : children_)
    c->collect(prefix + n + ".", params, bufs, persistent_only, true, out);
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  collect("", true, false, false, recurse, out);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", false, true, false, recurse, out);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", true, true, true, true, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [n, c] : children_) out.push_back(c);
  return out;
}

NamedModules Module::named_modules() const {
  NamedModules out;
  for (const auto& [n, c] : children_) {
    out.emplace_back(n, c);
    for (auto& [sub, m] : c->named_modules()) out.emplace_back(n + "." + sub, m);
  }
  return out;
}

std::shared_ptr<Module> Module::submodule(const std::string& path) const {
  for (auto& [p, m] : named_modules())
    if (p == path) return m;
  std::ostringstream valid;
  for (auto& [p, m] : named_modules()) valid << (valid.tellp() > 0 ? ", " : "") << p;
  fail(type_name(), "::submodule: no module at path '", path,
       "'; valid paths: ", valid.str().empty() ? "(none)" : valid.str());
}

std::int64_t Module::num_parameters(bool trainable_only) const {
  std::int64_t n = 0;
  for (auto& [name, t] : named_parameters())
    if (!trainable_only || t.requires_grad()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

// ---- Printing ---------------------------------------------------------------------------

void Module::repr_into(std::string& out, int indent) const {
  out += type_name() + "(";
  std::string extra = extra_repr();
  if (children_.empty()) {
    out += extra + ")";
    return;
  }
  std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  out += "\n";
  if (!extra.empty()) out += pad + extra + "\n";
  for (const auto& [n, c] : children_) {
    out += pad + "(" + n + "): ";
    c->repr_into(out, indent + 2);
    out += "\n";
  }
  out += std::string(static_cast<std::size_t>(indent), ' ') + ")";
}

std::string Module::repr() const {
  std::string out;
  repr_into(out, 0);
  return out;
}

// ---- Hooks and taps ---------------------------------------------------------------------

HookHandle Module::register_forward_hook(ForwardHook fn) {
  RETORT_CHECK(static_cast<bool>(fn), type_name(), "::register_forward_hook: empty function");
  std::uint64_t id = hooks_->next_id++;
  hooks_->hooks.emplace_back(id, std::move(fn));
  return HookHandle(hooks_, id);
}

FeatureTap Module::tap(const std::string& path) {
  Module* target = path.empty() ? this : submodule(path).get();
  FeatureTap t;
  t.state_ = std::make_shared<FeatureTap::State>();
  t.state_->path = path;
  // Weak: the tap owns its state; a module outliving the tap must not keep it alive.
  std::weak_ptr<FeatureTap::State> weak = t.state_;
  t.handle_ =
      target->register_forward_hook([weak](const Module&, const Tensor& in, const Tensor& out) {
        if (auto s = weak.lock()) {
          s->input = in;
          s->output = out;
        }
      });
  return t;
}

}  // namespace retort::nn
