// The directory checks and the text forms of run_checkpoint.h. Values are parsed strictly: a
// checkpoint that passed its checksum but holds a malformed value (a newer writer, an edit) is
// an error naming the value, never a silently different run.
#include "common/run_checkpoint.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/flags.h"
#include "tensor/error.h"

namespace retort::examples {

void prepare_checkpoint_dir(const CheckpointOptions& o) {
  if (o.dir.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  RETORT_CHECK(!ec && fs::is_directory(o.dir), "--checkpoint-dir '", o.dir,
               "': cannot create the directory", ec ? " (" + ec.message() + ")" : std::string());
  const std::string probe = o.dir + "/.write-probe";
  {
    std::ofstream f(probe);
    f << "probe";
    f.flush();
    RETORT_CHECK(f.good(), "--checkpoint-dir '", o.dir, "': not writable");
  }
  fs::remove(probe, ec);
  if (o.resume) return;
  for (const auto& entry : fs::directory_iterator(o.dir))
    RETORT_CHECK(entry.path().extension() != ".ckpt", "--checkpoint-dir '", o.dir,
                 "' already holds checkpoints (", entry.path().filename().string(),
                 "): pass --resume to continue that training, or choose another directory");
}

void add_checkpoint_flags(Flags& f, CheckpointOptions& o) {
  f.value("--checkpoint-dir", o.dir);
  f.value("--checkpoint-every", o.every_batches);
  f.set("--resume", o.resume);
}

std::string next_checkpoint_path(const CheckpointOptions& o, const std::string& run) {
  const int k = ++o.runs[run];
  return o.dir + "/" + run + (k > 1 ? "~" + std::to_string(k) : std::string()) + ".ckpt";
}

std::string encode_fingerprint(const Fingerprint& f) {
  std::string s;
  for (const auto& [k, v] : f) s += k + "=" + v + "\n";
  return s;
}

Fingerprint decode_fingerprint(const std::string& s) {
  Fingerprint f;
  std::istringstream is(s);
  std::string line;
  while (std::getline(is, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) f[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return f;
}

void check_fingerprint(const std::string& path, const Fingerprint& saved, const Fingerprint& now) {
  std::string diff;
  auto get = [](const Fingerprint& f, const std::string& k) {
    auto it = f.find(k);
    return it == f.end() ? std::string("(none)") : it->second;
  };
  Fingerprint keys = saved;
  keys.insert(now.begin(), now.end());
  for (const auto& [k, unused] : keys)
    if (get(saved, k) != get(now, k))
      diff += (diff.empty() ? "" : "; ") + k + " " + get(saved, k) + " in the checkpoint, " + get(now, k) + " now";
  RETORT_CHECK(diff.empty(), "resume: '", path, "' was written for other settings: ", diff,
               " (resume with the original flags, or use another --checkpoint-dir)");
}

std::string hex_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

std::string short_double(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : hex_double(v);
}

double parse_double(const std::string& s, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  RETORT_CHECK(!s.empty() && *end == '\0', "resume: checkpoint value ", what, " = '", s,
               "' is not a number");
  return v;
}

std::int64_t parse_int(const std::string& s, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  RETORT_CHECK(!s.empty() && *end == '\0' && errno == 0 && v >= 0, "resume: checkpoint value ",
               what, " = '", s, "' is not a non-negative integer");
  return v;
}

}  // namespace retort::examples
