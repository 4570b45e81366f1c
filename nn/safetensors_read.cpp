// Reading and validating safetensors files (format and checks in serialization.h). Nothing is
// allocated for a tensor until the whole header has been checked against the file size, so a
// corrupt header cannot trigger huge allocations or reads outside the file.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "nn/serialization.h"
#include "tensor/error.h"

namespace retort::nn {

namespace {

// The reference implementation refuses headers above 100 MB; so do we.
constexpr std::uint64_t kMaxHeader = 100'000'000;

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin, end;
};

bool parse_dtype(const std::string& s, DType* out) {
  if (s == "F32")
    *out = kFloat32;
  else if (s == "F64")
    *out = kFloat64;
  else if (s == "I64")
    *out = kInt64;
  else
    return false;
  return true;
}

// Checks one header entry; `bad` throws with the file and tensor named.
template <class Bad>
Entry parse_entry(const std::string& name, const nlohmann::json& v, std::uint64_t data_size,
                  Bad bad) {
  if (!v.is_object()) bad(name, "entry is not a JSON object");
  for (const char* k : {"dtype", "shape", "data_offsets"})
    if (!v.contains(k)) bad(name, std::string("entry has no \"") + k + "\"");
  Entry e{name, kFloat32, {}, 0, 0};
  if (!v["dtype"].is_string()) bad(name, "\"dtype\" is not a string");
  std::string dt = v["dtype"].get<std::string>();
  if (!parse_dtype(dt, &e.dtype)) bad(name, "unsupported dtype \"" + dt + "\" (F32, F64, I64 are)");
  const auto& shape = v["shape"];
  if (!shape.is_array()) bad(name, "\"shape\" is not an array");
  std::uint64_t numel = 1;
  for (const auto& d : shape) {
    if (!d.is_number_unsigned())
      bad(name, "\"shape\" " + shape.dump() + " has a non-integer or negative size");
    std::uint64_t s = d.get<std::uint64_t>();
    if (s > 0 && numel > data_size / s)
      bad(name, "shape " + shape.dump() + " is larger than the data section");
    numel *= s;
    e.shape.push_back(static_cast<std::int64_t>(s));
  }
  const auto& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
      !off[1].is_number_unsigned())
    bad(name, "\"data_offsets\" " + off.dump() + " is not [begin, end] with non-negative integers");
  e.begin = off[0].get<std::uint64_t>();
  e.end = off[1].get<std::uint64_t>();
  if (e.begin > e.end || e.end > data_size)
    bad(name, "data_offsets " + off.dump() + " lie outside the data section of " +
                  std::to_string(data_size) + " bytes (file truncated?)");
  std::uint64_t want = numel * dtype_size(e.dtype);
  if (e.end - e.begin != want)
    bad(name, "data_offsets " + off.dump() + " span " + std::to_string(e.end - e.begin) +
                  " bytes but shape " + shape.dump() + " of " + dt + " needs " +
                  std::to_string(want));
  return e;
}

}  // namespace

TensorMap load_safetensors(const std::string& path, Metadata* metadata) {
  auto bad_file = [&](const std::string& why) { fail("load_safetensors: '", path, "': ", why); };
  auto bad = [&](const std::string& name, const std::string& why) {
    fail("load_safetensors: '", path, "': tensor '", name, "': ", why);
  };

  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) bad_file("cannot open file");
  const std::uint64_t file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  std::vector<char> bytes(file_size);
  if (file_size > 0 && !in.read(bytes.data(), static_cast<std::streamsize>(file_size)))
    bad_file("read failed");
  if (file_size < 8)
    bad_file("file is " + std::to_string(file_size) +
             " bytes, too short for the 8-byte header length");
  std::uint64_t hlen = 0;
  std::memcpy(&hlen, bytes.data(), 8);
  if (hlen > file_size - 8 || hlen > kMaxHeader)
    bad_file("header length " + std::to_string(hlen) + " does not fit in the file of " +
             std::to_string(file_size) + " bytes (truncated, or not a safetensors file)");
  const std::uint64_t data_size = file_size - 8 - hlen;
  const char* data = bytes.data() + 8 + hlen;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.data() + 8, bytes.data() + 8 + hlen);
  } catch (const nlohmann::json::exception& e) {
    bad_file(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) bad_file("header is not a JSON object");

  std::vector<Entry> entries;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) bad_file("\"__metadata__\" is not an object");
      for (const auto& [k, s] : v.items()) {
        if (!s.is_string()) bad_file("\"__metadata__\" value of '" + k + "' is not a string");
        if (metadata) (*metadata)[k] = s.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(name, v, data_size, bad));
  }

  // The tensors must tile the data section exactly: sorted by offset, each starts where the
  // previous one ended, and the last ends at the end of the file.
  std::vector<const Entry*> order;
  for (const auto& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  std::uint64_t pos = 0;
  const Entry* prev = nullptr;
  for (const Entry* e : order) {
    if (e->begin < pos)
      bad(e->name, "bytes [" + std::to_string(e->begin) + ", " + std::to_string(e->end) +
                       ") overlap tensor '" + prev->name + "'");
    if (e->begin > pos)
      bad(e->name, "bytes [" + std::to_string(pos) + ", " + std::to_string(e->begin) +
                       ") before it belong to no tensor");
    pos = e->end;
    prev = e;
  }
  if (pos != data_size)
    bad_file("the data section has " + std::to_string(data_size) + " bytes but the tensors cover " +
             std::to_string(pos) + " (trailing bytes)");

  TensorMap out;
  for (const auto& e : entries) {
    Tensor t = empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw_data(), data + e.begin, e.end - e.begin);
    out.emplace(e.name, t);
  }
  return out;
}

}  // namespace retort::nn
