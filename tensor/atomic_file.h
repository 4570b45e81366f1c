// Output files that appear whole or not at all (namespace retort). Every file Retort writes —
// safetensors checkpoints, graph dumps, the examples' CSV files and plots — goes through here:
//
//   AtomicFile f(path, "save_safetensors");   // creates the temporary file next to path
//   f.write(bytes, n); ...                     // buffered; a failed write throws at once
//   f.commit();                                // flush, fsync, close, rename over path, fsync dir
//
// The bytes go to a temporary file in the destination's directory, named
//   <file name>.retort-tmp.<pid>.<n>
// which commit() flushes, fsyncs and closes — checking each step, so a full disk or an I/O error
// is an error instead of a silently short file — and then renames over <path> (atomic on POSIX:
// a reader sees the old file or the complete new one) before fsyncing the directory so the rename
// itself survives a crash. An AtomicFile destroyed before commit() (an exception, an early
// return) removes its temporary file; nothing ever appears under <path> half-written.
//
// A process killed mid-write leaves its temporary file behind. Opening an AtomicFile (or
// check_writable_*) for a destination removes that destination's stale temporary files: those of
// the pattern above whose process <pid> no longer exists. Temporary files of live processes are
// left alone.
//
// Errors throw retort::Error, "<who>: '<path>': <what failed>: <strerror>".
#pragma once
#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>

namespace retort {

class AtomicFile {
 public:
  AtomicFile(std::string path, std::string who);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t n);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }

 private:
  void flush_buffer();
  [[noreturn]] void fail_io(const std::string& what, int err);
  std::string path_, who_, tmp_;
  std::string buffer_;
  int fd_ = -1;
  bool committed_ = false;
};

// AtomicFile with all of `contents`.
void write_file_atomically(const std::string& path, std::string_view contents, const std::string& who);

// Appends `text` to the file at path (created, starting with `header_if_new`, when missing or
// empty) by rewriting it whole through AtomicFile: the file holds the old contents or the old
// contents plus all of `text`, never a partly appended line.
void append_file_atomically(const std::string& path, std::string_view text, const std::string& who,
                            std::string_view header_if_new = {});

// The marker of Retort's temporary output files: "<file name>.retort-tmp.<pid>.<n>".
inline constexpr const char* kTempFileMarker = ".retort-tmp.";
// A fresh temporary name for path, in its directory, following that pattern (nothing created).
std::string temp_path_for(const std::string& path);
// Removes the stale temporary files of path (see above); returns how many were removed.
int remove_stale_temp_files(const std::string& path);
// Publishes a complete file written by someone else (e.g. a plot from gnuplot) at `temp`, a name
// from temp_path_for(path): fsync, rename over path, fsync the directory. Removes temp and throws
// on failure.
void publish_file(const std::string& temp, const std::string& path, const std::string& who);

// Checks, before a long run, that its outputs can be written later. check_writable_dir creates
// dir (with its parents) when missing; check_writable_file does so for path's directory and
// refuses a path that exists and is not a regular file (a directory, a device). Both then create
// and remove a probe temporary file there. Throw retort::Error naming the path and the reason.
void check_writable_dir(const std::string& dir, const std::string& who);
void check_writable_file(const std::string& path, const std::string& who);

namespace testing {
// Fault injection for tests: once `after_bytes` more bytes have been written through AtomicFile
// (process-wide), further writes fail with errno `err` (the bytes up to the limit are written,
// like a disk filling up mid-file); with `at_sync`, writes succeed and commit()'s fsync fails with
// `err` instead. after_bytes < 0 turns the fault off.
void inject_write_fault(std::int64_t after_bytes, int err = ENOSPC, bool at_sync = false);
}  // namespace testing

}  // namespace retort
