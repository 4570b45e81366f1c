// What every fuzz target shares: a scratch folder of its own (one per process, so libFuzzer's
// -jobs/-fork workers never share files) in which the fuzz input is written as a file, because
// Retort's readers take paths. The folder is under $TMPDIR (default /tmp) and removed at exit.
//
// A target accepts exactly two outcomes for any input: the reader returns, or it throws
// retort::Error (the library's "clear error"). Any other exception escapes LLVMFuzzerTestOneInput,
// and libFuzzer reports it as a crash with the input that caused it.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace retort::fuzz {

class Scratch {
 public:
  Scratch() {
    dir_ = std::filesystem::temp_directory_path() / ("retort_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  // Writes size bytes to <dir>/<name> (replacing it) and returns its path.
  std::string write(const std::string& name, const std::uint8_t* data, std::size_t size) const {
    const std::filesystem::path p = dir_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) throw std::runtime_error("fuzz: cannot write " + p.string());
    return p.string();
  }

 private:
  std::filesystem::path dir_;
};

// The process's scratch folder, created on first use.
inline const Scratch& scratch() {
  static const Scratch s;
  return s;
}

}  // namespace retort::fuzz
