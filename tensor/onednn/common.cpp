// oneDNN engine/stream and tensor wrapping. The engine is created on first use; threads follow
// oneDNN's OpenMP runtime (OMP_NUM_THREADS / set by retort::set_num_threads).
#include "tensor/onednn/common.h"

#include <atomic>
#include <cstdlib>

namespace retort::onednn {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

namespace {
std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("RETORT_ONEDNN");
    return !(v && std::string(v) == "0");
  }()};
  return on;
}
}  // namespace

bool enabled() { return enabled_flag().load(); }
void set_enabled(bool on) { enabled_flag().store(on); }

dnnl::memory::dims dims_of(const Shape& s) { return dnnl::memory::dims(s.begin(), s.end()); }

dnnl::memory::desc desc_of(const Tensor& t) {
  RETORT_CHECK(t.dtype() == kFloat32, "onednn: expected float32, got ", dtype_name(t.dtype()));
  return dnnl::memory::desc(dims_of(t.sizes()), dnnl::memory::data_type::f32, dims_of(t.strides()));
}

dnnl::memory memory_of(const Tensor& t) { return memory_of(desc_of(t), t); }

dnnl::memory memory_of(const dnnl::memory::desc& d, const Tensor& t) {
  return dnnl::memory(d, engine(), t.raw_data());
}

void key_add(std::string& key, const Shape& s) {
  key += '[';
  for (auto v : s) {
    key += std::to_string(v);
    key += ',';
  }
  key += ']';
}

void key_add(std::string& key, std::int64_t v) {
  key += std::to_string(v);
  key += ';';
}

dnnl::memory scratch(const std::string& key, const dnnl::memory::desc& d) {
  return cached<dnnl::memory>("scratch:" + key, [&] { return dnnl::memory(d, engine()); });
}

}  // namespace retort::onednn
