// Distiller::save_state / load_state. The cache is stored sorted by sample index so the same
// cache always gives the same bytes (and checksum), whatever the hash map's iteration order.
#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "autograd/ops/shape.h"
#include "kd/distiller.h"
#include "tensor/error.h"

namespace retort::kd {

void Distiller::save_state(nn::Checkpoint& c, const std::string& prefix) const {
  c.values[prefix + "step"] = std::to_string(step_);
  c.values[prefix + "cache"] = use_cache_ ? "1" : "0";
  if (cache_.empty()) return;
  std::vector<std::int64_t> index;
  for (const auto& [i, row] : cache_) index.push_back(i);
  std::sort(index.begin(), index.end());
  std::vector<Tensor> rows;
  for (std::int64_t i : index) rows.push_back(cache_.at(i).to(kCPU));
  c.tensors[prefix + "cache.index"] = from_vector(index, {static_cast<std::int64_t>(index.size())});
  c.tensors[prefix + "cache.logits"] = stack(rows, 0);
}

void Distiller::load_state(const nn::Checkpoint& c, const std::string& prefix) {
  auto value = [&](const std::string& k) -> const std::string& {
    auto it = c.values.find(prefix + k);
    RETORT_CHECK(it != c.values.end(), "Distiller::load_state: no value '", prefix + k, "'");
    return it->second;
  };
  const std::string& s = value("step");
  char* end = nullptr;
  errno = 0;
  const long long step = std::strtoll(s.c_str(), &end, 10);
  RETORT_CHECK(!s.empty() && *end == '\0' && errno == 0 && step >= 0, "Distiller::load_state: step '",
               s, "' is not a non-negative integer");
  const std::string& on = value("cache");
  RETORT_CHECK(on == "0" || on == "1", "Distiller::load_state: cache '", on, "' is not 0 or 1");
  std::unordered_map<std::int64_t, Tensor> cache;
  auto idx = c.tensors.find(prefix + "cache.index");
  auto logits = c.tensors.find(prefix + "cache.logits");
  RETORT_CHECK((idx == c.tensors.end()) == (logits == c.tensors.end()), "Distiller::load_state: '",
               prefix, "cache.index' and '", prefix, "cache.logits' come together");
  if (idx != c.tensors.end()) {
    const Tensor& i = idx->second;
    const Tensor& l = logits->second;
    const auto teachers = static_cast<std::int64_t>(teachers_.size());
    RETORT_CHECK(i.dtype() == kInt64 && i.dim() == 1 && l.dim() == 3 && l.size(0) == i.size(0) &&
                     l.size(1) == teachers,
                 "Distiller::load_state: cache index ", i.str(), " and logits ", l.str(),
                 " must be int64 [M] and [M, ", teachers, ", K]");
    // The rows live where the teachers' outputs do.
    const std::vector<Tensor> params = teachers_.front()->parameters();
    const Device device = params.empty() ? kCPU : params.front().device();
    const std::vector<std::int64_t> ids = i.contiguous().to_vector<std::int64_t>();
    for (std::size_t r = 0; r < ids.size(); ++r)
      cache[ids[r]] = select(l, 0, static_cast<std::int64_t>(r)).to(device).clone();
    RETORT_CHECK(cache.size() == ids.size(), "Distiller::load_state: cache index has repeated samples");
  }
  step_ = step;
  use_cache_ = on == "1";
  cache_ = std::move(cache);
}

}  // namespace retort::kd
