// Module operations that change tensor data in place: freezing, clearing gradients, moving to a
// device or dtype, loading a state dict (see module.h for the identity guarantee).
#include <set>
#include <sstream>

#include "autograd/grad_mode.h"
#include "nn/module.h"
#include "tensor/error.h"

namespace retort::nn {

void adopt_data(const Tensor& dst, const Tensor& src) {
  TensorImpl& d = *dst.impl();
  const TensorImpl& s = *src.impl();
  d.storage = s.storage;
  d.sizes = s.sizes;
  d.strides = s.strides;
  d.offset = s.offset;
  d.dtype = s.dtype;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

void Module::requires_grad_(bool on) {
  for (auto& [n, p] : named_parameters()) p.set_requires_grad(on);
}

void Module::zero_grad(bool set_to_none) {
  for (auto& [n, p] : named_parameters()) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none)
      p.impl()->grad.reset();
    else if (g.device().is_cpu())
      g.fill_(0.0);
    else
      g.copy_(zeros({}, g.dtype()));
  }
}

void Module::to(Device device) {
  auto move = [&](const Tensor& t) {
    if (t.device() != device) adopt_data(t, t.to(device));
    Tensor g = t.grad();
    if (g.defined() && g.device() != device) t.impl()->grad = g.to(device).impl();
  };
  for (auto& [n, p] : named_parameters()) move(p);
  for (auto& [n, b] : named_buffers()) move(b);
}

void Module::to(DType dtype) {
  RETORT_CHECK(is_floating(dtype), type_name(), "::to: can only convert to a floating dtype, got ",
               dtype_name(dtype));
  auto convert = [&](const Tensor& t) {
    if (!is_floating(t.dtype())) return;  // int64 buffers keep their type, as in PyTorch
    if (t.dtype() != dtype) adopt_data(t, t.to(dtype));
    Tensor g = t.grad();
    if (g.defined() && g.dtype() != dtype) t.impl()->grad = g.to(dtype).impl();
  };
  for (auto& [n, p] : named_parameters()) convert(p);
  for (auto& [n, b] : named_buffers()) convert(b);
}

void Module::load_state_dict(const TensorMap& state, bool strict) {
  // Validate everything first; copy only when the whole load is known to succeed.
  NamedTensors mine = state_dict();
  std::vector<std::string> missing, unexpected, problems;
  std::set<std::string> own;
  for (const auto& [key, t] : mine) {
    own.insert(key);
    auto it = state.find(key);
    if (it == state.end()) {
      missing.push_back(key);
      continue;
    }
    const Tensor& src = it->second;
    std::ostringstream why;
    if (!src.defined()) {
      why << "'" << key << "' is undefined";
    } else if (src.sizes() != t.sizes()) {
      why << "size mismatch for '" << key << "': checkpoint " << shape_str(src.sizes())
          << ", model " << shape_str(t.sizes());
    } else if (is_floating(src.dtype()) != is_floating(t.dtype())) {
      why << "dtype mismatch for '" << key << "': checkpoint " << dtype_name(src.dtype())
          << ", model " << dtype_name(t.dtype());
    }
    if (!why.str().empty()) problems.push_back(why.str());
  }
  for (const auto& [key, t] : state)
    if (!own.count(key)) unexpected.push_back(key);

  std::ostringstream err;
  if (strict && !missing.empty()) err << "; missing keys: " << join(missing);
  if (strict && !unexpected.empty()) err << "; unexpected keys: " << join(unexpected);
  for (const auto& p : problems) err << "; " << p;
  RETORT_CHECK(err.str().empty(), "load_state_dict: ", type_name(), ": nothing was loaded",
               err.str());

  NoGradGuard no_grad;
  for (auto [key, t] : mine) {
    auto it = state.find(key);
    if (it != state.end()) t.copy_(it->second);
  }
}

}  // namespace retort::nn
