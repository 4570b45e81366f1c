// Optimizer::state_dict / load_state_dict. Numbers travel as text so that a checkpoint holds them
// exactly: integers in decimal, doubles as C99 hex floats ("%a"), which strtod reads back to the
// same bits. Loading parses and checks everything into a staging copy before touching the
// optimiser, so a damaged or mismatched state leaves it as it was.
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "optim/optimizer.h"
#include "tensor/error.h"

namespace retort::optim {
namespace {

std::string hex(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

std::string key(const char* what, std::size_t g, std::size_t i = SIZE_MAX, std::size_t j = SIZE_MAX) {
  std::string k = std::string(what) + "." + std::to_string(g);
  if (i != SIZE_MAX) k += "." + std::to_string(i);
  if (j != SIZE_MAX) k += "." + std::to_string(j);
  return k;
}

const std::string& value(const OptimizerState& s, const std::string& name, const std::string& k) {
  auto it = s.values.find(k);
  RETORT_CHECK(it != s.values.end(), name, ".load_state_dict: the state has no value '", k, "'");
  return it->second;
}

std::int64_t integer(const OptimizerState& s, const std::string& name, const std::string& k) {
  const std::string& v = value(s, name, k);
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  RETORT_CHECK(!v.empty() && errno == 0 && *end == '\0' && x >= 0, name,
               ".load_state_dict: value '", k, "' = '", v, "' is not a non-negative integer");
  return x;
}

double real(const OptimizerState& s, const std::string& name, const std::string& k) {
  const std::string& v = value(s, name, k);
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  RETORT_CHECK(!v.empty() && *end == '\0', name, ".load_state_dict: value '", k, "' = '", v,
               "' is not a number");
  return x;
}

}  // namespace

OptimizerState Optimizer::state_dict() const {
  OptimizerState s;
  s.values["name"] = name_;
  s.values["steps"] = std::to_string(steps_);
  s.values["groups"] = std::to_string(groups_.size());
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const ParamGroup& group = groups_[g];
    s.values[key("group", g) + ".params"] = std::to_string(group.params.size());
    s.values[key("group", g) + ".lr"] = hex(*group.lr);
    if (group.weight_decay) s.values[key("group", g) + ".weight_decay"] = hex(*group.weight_decay);
    if (group.initial_lr) s.values[key("group", g) + ".initial_lr"] = hex(*group.initial_lr);
    for (std::size_t i = 0; i < group.params.size(); ++i) {
      const ParamState& st = state_[g][i];
      s.values[key("state", g, i) + ".step"] = std::to_string(st.step);
      s.values[key("state", g, i) + ".buffers"] = std::to_string(st.buffers.size());
      for (std::size_t j = 0; j < st.buffers.size(); ++j)
        s.tensors.emplace_back(key("state", g, i, j), st.buffers[j]);
    }
  }
  return s;
}

void Optimizer::load_state_dict(const OptimizerState& s) {
  RETORT_CHECK(value(s, name_, "name") == name_, name_, ".load_state_dict: the state is of a ",
               value(s, name_, "name"), " optimiser");
  const std::int64_t groups = integer(s, name_, "groups");
  RETORT_CHECK(groups == static_cast<std::int64_t>(groups_.size()), name_,
               ".load_state_dict: the state has ", groups, " parameter groups, this optimiser ",
               groups_.size());
  std::map<std::string, Tensor> tensors(s.tensors.begin(), s.tensors.end());
  std::vector<ParamGroup> new_groups = groups_;
  std::vector<std::vector<ParamState>> new_state = state_;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const std::int64_t count = integer(s, name_, key("group", g) + ".params");
    RETORT_CHECK(count == static_cast<std::int64_t>(groups_[g].params.size()), name_,
                 ".load_state_dict: group ", g, " has ", count, " parameters in the state, ",
                 groups_[g].params.size(), " here");
    new_groups[g].lr = real(s, name_, key("group", g) + ".lr");
    for (const char* opt : {".weight_decay", ".initial_lr"}) {
      const std::string k = key("group", g) + opt;
      std::optional<double> v;
      if (s.values.count(k)) v = real(s, name_, k);
      (std::string(opt) == ".weight_decay" ? new_groups[g].weight_decay : new_groups[g].initial_lr) = v;
    }
    for (std::size_t i = 0; i < groups_[g].params.size(); ++i) {
      const Tensor& p = groups_[g].params[i];
      ParamState st;
      st.step = integer(s, name_, key("state", g, i) + ".step");
      const std::int64_t buffers = integer(s, name_, key("state", g, i) + ".buffers");
      RETORT_CHECK(buffers <= 8, name_, ".load_state_dict: parameter ", i, " of group ", g,
                   " claims ", buffers, " buffers");
      for (std::int64_t j = 0; j < buffers; ++j) {
        auto it = tensors.find(key("state", g, i, static_cast<std::size_t>(j)));
        RETORT_CHECK(it != tensors.end(), name_, ".load_state_dict: missing tensor '",
                     key("state", g, i, static_cast<std::size_t>(j)), "'");
        const Tensor& b = it->second;
        RETORT_CHECK(b.defined() && b.sizes() == p.sizes() && b.dtype() == p.dtype(), name_,
                     ".load_state_dict: buffer '", it->first, "' ",
                     b.defined() ? b.str() : std::string("(undefined)"), " does not match parameter ",
                     p.str());
        st.buffers.push_back(b.to(p.device()).contiguous().clone());
      }
      new_state[g][i] = std::move(st);
    }
  }
  const std::int64_t steps = integer(s, name_, "steps");
  groups_ = std::move(new_groups);
  state_ = std::move(new_state);
  steps_ = steps;
}

}  // namespace retort::optim
