// Reading and validating safetensors files (format and checks in serialization.h). The file is
// never trusted: only the 8-byte length and the header are read before the whole header has been
// checked against the file size, every size and offset computed from it is overflow-checked, and
// error messages never print arbitrary header values (a value is described by its kind and, for
// short arrays of numbers, its elements) — so a corrupt or hostile file cannot trigger huge
// allocations, reads outside the file, arithmetic overflow or deep recursion.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>

#include "nn/serialization.h"
#include "tensor/error.h"

namespace retort::nn {

namespace {

// The reference implementation refuses headers above 100 MB; so do we.
constexpr std::uint64_t kMaxHeader = 100'000'000;
// A safetensors header nests 3 levels ({name: {"shape": [...]}}); anything much deeper is not one
// (and would cost recursion in the JSON library's dump and in our own checks).
constexpr int kMaxNesting = 64;
// Retort's tensors have at most this many dimensions here (PyTorch's limit is also 64).
constexpr std::size_t kMaxRank = 64;
constexpr std::uint64_t kInt64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

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

// A name or string from the file, for a message: at most 80 bytes of it.
std::string shown(const std::string& s) {
  constexpr std::size_t kMax = 80;
  if (s.size() <= kMax) return s;
  return s.substr(0, kMax) + "...(" + std::to_string(s.size()) + " bytes)";
}

// A header value for a message, without recursing into it: scalars as JSON, arrays of up to 8
// scalars as JSON, anything else by its kind and size.
std::string brief(const nlohmann::json& v) {
  if (v.is_number() || v.is_boolean() || v.is_null()) return v.dump();
  if (v.is_string()) return "\"" + shown(v.get_ref<const std::string&>()) + "\"";
  if (v.is_object()) return "an object of " + std::to_string(v.size()) + " entries";
  if (v.is_array()) {
    if (v.size() > 8) return "an array of " + std::to_string(v.size()) + " elements";
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto& x = v[i];
      s += i ? "," : "";
      s += x.is_array() ? "[...]" : x.is_object() ? "{...}" : x.is_string() ? "\"...\"" : x.dump();
    }
    return s + "]";
  }
  return "a value";
}

// The deepest nesting of arrays and objects in JSON text (strings skipped), stopping early once
// past `limit`. Linear, no recursion: run before the parser so nothing downstream sees a deep value.
int nesting_depth(const char* p, const char* end, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (; p < end; ++p) {
    const char c = *p;
    if (in_string) {
      if (c == '\\') ++p;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// Checks one header entry; `bad` throws with the file and tensor named. Every product and sum of
// numbers from the file is overflow-checked before use.
template <class Bad>
Entry parse_entry(const std::string& name, const nlohmann::json& v, std::uint64_t data_size,
                  Bad bad) {
  if (!v.is_object()) bad(name, "entry is " + brief(v) + ", not a JSON object");
  for (const char* k : {"dtype", "shape", "data_offsets"})
    if (!v.contains(k)) bad(name, std::string("entry has no \"") + k + "\"");
  Entry e{name, kFloat32, {}, 0, 0};
  if (!v["dtype"].is_string()) bad(name, "\"dtype\" is " + brief(v["dtype"]) + ", not a string");
  const std::string& dt = v["dtype"].get_ref<const std::string&>();
  if (!parse_dtype(dt, &e.dtype))
    bad(name, "unsupported dtype \"" + shown(dt) + "\" (F32, F64, I64 are)");
  const std::uint64_t elem = dtype_size(e.dtype);
  const auto& shape = v["shape"];
  if (!shape.is_array()) bad(name, "\"shape\" is " + brief(shape) + ", not an array");
  if (shape.size() > kMaxRank)
    bad(name, "\"shape\" has " + std::to_string(shape.size()) + " dimensions (at most " +
                  std::to_string(kMaxRank) + " are supported)");
  // numel: the element count. extent: the product of the non-zero sizes, which bounds every
  // stride and byte offset of the tensor even when a zero size makes numel 0; it must stay below
  // 2^63 bytes so that no stride or offset computed later can overflow.
  std::uint64_t numel = 1, extent = 1;
  for (const auto& d : shape) {
    if (!d.is_number_unsigned())
      bad(name, "\"shape\" " + brief(shape) + " has a non-integer or negative size");
    const std::uint64_t s = d.get<std::uint64_t>();
    std::uint64_t bytes = 0;
    if (s > kInt64Max || (s > 0 && __builtin_mul_overflow(extent, s, &extent)) ||
        __builtin_mul_overflow(extent, elem, &bytes) || bytes > kInt64Max)
      bad(name, "shape " + brief(shape) + " is too large: its sizes multiply past 2^63 bytes");
    numel *= s;  // ≤ extent: cannot overflow
    e.shape.push_back(static_cast<std::int64_t>(s));
  }
  const auto& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
      !off[1].is_number_unsigned())
    bad(name, "\"data_offsets\" " + brief(off) + " is not [begin, end] with non-negative integers");
  e.begin = off[0].get<std::uint64_t>();
  e.end = off[1].get<std::uint64_t>();
  if (e.begin > e.end || e.end > data_size)
    bad(name, "data_offsets " + brief(off) + " lie outside the data section of " +
                  std::to_string(data_size) + " bytes (file truncated?)");
  const std::uint64_t want = numel * elem;  // ≤ extent·elem < 2^63
  if (e.end - e.begin != want)
    bad(name, "data_offsets " + brief(off) + " span " + std::to_string(e.end - e.begin) +
                  " bytes but shape " + brief(shape) + " of " + dt + " needs " + std::to_string(want));
  return e;
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// pread until n bytes arrived; false on end of file or error (errno set, 0 at end of file).
bool read_at(int fd, void* dst, std::uint64_t n, std::uint64_t offset) {
  auto* out = static_cast<char*>(dst);
  while (n > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 30));
    const ssize_t r = ::pread(fd, out, chunk, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (r == 0) errno = 0;
      return false;
    }
    out += r;
    offset += static_cast<std::uint64_t>(r);
    n -= static_cast<std::uint64_t>(r);
  }
  return true;
}

}  // namespace

TensorMap load_safetensors(const std::string& path, Metadata* metadata) {
  auto bad_file = [&](const std::string& why) { fail("load_safetensors: '", path, "': ", why); };
  auto bad = [&](const std::string& name, const std::string& why) {
    fail("load_safetensors: '", path, "': tensor '", shown(name), "': ", why);
  };
  auto read_failed = [&](const std::string& what) {
    bad_file("reading " + what + " failed: " +
             (errno ? std::string(std::strerror(errno)) : std::string("the file ended early (changed while reading?)")));
  };

  // O_NONBLOCK: opening a FIFO must not wait for a writer before it is refused below.
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0) bad_file(std::string("cannot open file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) bad_file(std::string("cannot stat file: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    bad_file(S_ISDIR(st.st_mode) ? "is a directory, not a safetensors file"
                                 : "is not a regular file (a device, FIFO or socket), not a safetensors file");
  const std::uint64_t file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < 8)
    bad_file("file is " + std::to_string(file_size) +
             " bytes, too short for the 8-byte header length");
  std::uint64_t hlen = 0;
  if (!read_at(f.fd, &hlen, 8, 0)) read_failed("the header length");
  if (hlen > file_size - 8 || hlen > kMaxHeader)
    bad_file("header length " + std::to_string(hlen) + " does not fit in the file of " +
             std::to_string(file_size) + " bytes (truncated, or not a safetensors file)");
  const std::uint64_t data_start = 8 + hlen;
  const std::uint64_t data_size = file_size - data_start;
  std::string text(static_cast<std::size_t>(hlen), '\0');
  if (hlen > 0 && !read_at(f.fd, text.data(), hlen, 8)) read_failed("the header");

  const int depth = nesting_depth(text.data(), text.data() + text.size(), kMaxNesting);
  if (depth > kMaxNesting)
    bad_file("header nests arrays/objects more than " + std::to_string(kMaxNesting) +
             " levels deep (a safetensors header has 3): not a safetensors file");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    bad_file(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) bad_file("header is " + brief(header) + ", not a JSON object");

  Metadata meta;
  std::vector<Entry> entries;
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) bad_file("\"__metadata__\" is " + brief(v) + ", not an object");
      for (const auto& [k, s] : v.items()) {
        if (!s.is_string())
          bad_file("\"__metadata__\" value of '" + shown(k) + "' is " + brief(s) + ", not a string");
        meta[k] = s.get<std::string>();
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
                       ") overlap tensor '" + shown(prev->name) + "'");
    if (e->begin > pos)
      bad(e->name, "bytes [" + std::to_string(pos) + ", " + std::to_string(e->begin) +
                       ") before it belong to no tensor");
    pos = e->end;
    prev = e;
  }
  if (pos != data_size)
    bad_file("the data section has " + std::to_string(data_size) + " bytes but the tensors cover " +
             std::to_string(pos) + " (trailing bytes)");

  // Everything checked: the allocations total exactly the data section, which is in the file.
  TensorMap out;
  for (const Entry* e : order) {
    Tensor t = empty(e->shape, e->dtype);
    if (e->end > e->begin && !read_at(f.fd, t.raw_data(), e->end - e->begin, data_start + e->begin))
      read_failed("tensor '" + shown(e->name) + "'");
    out.emplace(e->name, t);
  }
  if (metadata)
    for (auto& [k, s] : meta) (*metadata)[k] = std::move(s);
  return out;
}

}  // namespace retort::nn
