// Training checkpoints. The checksum covers names, dtypes and shapes as well as the bytes, so a
// renamed or reshaped tensor is caught as surely as a flipped bit; the safetensors layer already
// refuses structural damage (truncation, bad offsets), this catches damage inside the data.
#include "nn/checkpoint.h"

#include <zlib.h>

#include <cstdio>

#include "tensor/error.h"

namespace retort::nn {
namespace {

constexpr const char* kReserved[] = {"format", "version", "checksum"};

bool reserved(const std::string& k) {
  for (const char* r : kReserved)
    if (k == r) return true;
  return false;
}

uLong crc_bytes(uLong crc, const void* p, std::size_t n) {
  const auto* b = static_cast<const Bytef*>(p);
  while (n > 0) {  // crc32 takes a uInt length
    const uInt chunk = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
    crc = crc32(crc, b, chunk);
    b += chunk;
    n -= chunk;
  }
  return crc;
}

uLong crc_string(uLong crc, const std::string& s) {
  crc = crc_bytes(crc, s.data(), s.size());
  return crc_bytes(crc, "", 1);  // a separator, so "ab"+"c" differs from "a"+"bc"
}

}  // namespace

std::string checkpoint_checksum(const TensorMap& tensors, const Metadata& values) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& [name, t] : tensors) {
    crc = crc_string(crc, name);
    crc = crc_string(crc, dtype_name(t.dtype()));
    crc = crc_string(crc, shape_str(t.sizes()));
    Tensor packed = t.to(kCPU).contiguous();
    crc = crc_bytes(crc, packed.raw_data(),
                    static_cast<std::size_t>(packed.numel()) * dtype_size(packed.dtype()));
  }
  for (const auto& [k, v] : values) {
    if (reserved(k)) continue;
    crc = crc_string(crc, k);
    crc = crc_string(crc, v);
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08lx", static_cast<unsigned long>(crc & 0xffffffffUL));
  return buf;
}

void save_checkpoint(const Checkpoint& c, const std::string& path) {
  Metadata meta = c.values;
  for (const char* r : kReserved)
    RETORT_CHECK(!c.values.count(r), "save_checkpoint: '", path, "': the key '", r,
                 "' is reserved");
  meta["format"] = kCheckpointFormat;
  meta["version"] = std::to_string(kCheckpointVersion);
  meta["checksum"] = checkpoint_checksum(c.tensors, c.values);
  save_safetensors(c.tensors, path, meta);
}

Checkpoint load_checkpoint(const std::string& path) {
  Checkpoint c;
  c.tensors = load_safetensors(path, &c.values);
  auto get = [&](const char* k) {
    auto it = c.values.find(k);
    return it == c.values.end() ? std::string() : it->second;
  };
  RETORT_CHECK(get("format") == kCheckpointFormat, "load_checkpoint: '", path,
               "': not a training checkpoint (format '", get("format"), "' instead of '",
               kCheckpointFormat, "')");
  RETORT_CHECK(get("version") == std::to_string(kCheckpointVersion), "load_checkpoint: '", path,
               "': version '", get("version"), "', this build reads version ", kCheckpointVersion);
  const std::string stored = get("checksum");
  const std::string computed = checkpoint_checksum(c.tensors, c.values);
  RETORT_CHECK(stored == computed, "load_checkpoint: '", path, "': checksum mismatch (stored ",
               stored.empty() ? "none" : stored, ", computed ", computed, "): the file is damaged");
  for (const char* r : kReserved) c.values.erase(r);
  return c;
}

}  // namespace retort::nn
