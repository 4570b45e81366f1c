// Forward hooks and feature taps (see hooks.h).
#include "nn/hooks.h"

#include <algorithm>

#include "tensor/error.h"

namespace retort::nn {

namespace detail {
void HookList::run(const Module& m, const Tensor& in, const Tensor& out) const {
  // Iterate over a copy: a hook may remove itself (or another) while running.
  auto snapshot = hooks;
  for (const auto& [id, fn] : snapshot) fn(m, in, out);
}
}  // namespace detail

HookHandle& HookHandle::operator=(HookHandle&& o) noexcept {
  if (this != &o) {
    remove();
    list_ = std::move(o.list_);
    id_ = o.id_;
    o.list_.reset();
  }
  return *this;
}

void HookHandle::remove() {
  auto list = list_.lock();
  list_.reset();
  if (!list) return;
  auto& h = list->hooks;
  h.erase(std::remove_if(h.begin(), h.end(), [&](const auto& e) { return e.first == id_; }),
          h.end());
}

bool HookHandle::active() const {
  auto list = list_.lock();
  if (!list) return false;
  return std::any_of(list->hooks.begin(), list->hooks.end(),
                     [&](const auto& e) { return e.first == id_; });
}

const std::string& FeatureTap::path() const {
  static const std::string none;
  return state_ ? state_->path : none;
}

const Tensor& FeatureTap::output() const {
  RETORT_CHECK(has_value(), "FeatureTap '", path(),
               "': no forward pass has reached this module since the tap was made or cleared "
               "(call the model through operator(), not forward())");
  return state_->output;
}

const Tensor& FeatureTap::input() const {
  RETORT_CHECK(has_value(), "FeatureTap '", path(),
               "': no forward pass has reached this module since the tap was made or cleared "
               "(call the model through operator(), not forward())");
  return state_->input;
}

void FeatureTap::clear() {
  if (!state_) return;
  state_->input = Tensor();
  state_->output = Tensor();
}

void FeatureTap::remove() {
  handle_.remove();
  clear();
}

}  // namespace retort::nn
