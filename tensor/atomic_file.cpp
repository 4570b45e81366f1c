// Atomic output files (see atomic_file.h): POSIX file descriptors, so every write, the fsync and
// the close report their own errors (a std::ofstream only sets a bit, and its destructor's final
// flush reports nothing at all).
#include "tensor/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>

#include "tensor/error.h"

namespace retort {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBufferBytes = 1 << 16;

std::atomic<std::int64_t> g_fault_after{-1};
std::atomic<int> g_fault_err{ENOSPC};
std::atomic<bool> g_fault_at_sync{false};
std::atomic<std::uint64_t> g_temp_counter{0};

// The directory of path ("." for a bare file name) and its file name.
fs::path dir_of(const fs::path& p) { return p.has_parent_path() ? p.parent_path() : fs::path("."); }

// write(2) until all n bytes are out; returns 0 or the errno. Honours the injected fault.
int write_all(int fd, const char* data, std::size_t n) {
  std::int64_t budget = g_fault_after.load();
  bool faulty = budget >= 0 && !g_fault_at_sync.load();
  std::size_t allowed = n;
  if (faulty) {
    allowed = std::min<std::size_t>(n, static_cast<std::size_t>(budget));
    g_fault_after.store(budget - static_cast<std::int64_t>(allowed));
  }
  std::size_t done = 0;
  while (done < allowed) {
    const ssize_t w = ::write(fd, data + done, allowed - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    if (w == 0) return ENOSPC;
    done += static_cast<std::size_t>(w);
  }
  return done < n ? g_fault_err.load() : 0;
}

int sync_fd(int fd) {
  if (g_fault_after.load() >= 0 && g_fault_at_sync.load()) return g_fault_err.load();
  return ::fsync(fd) == 0 ? 0 : errno;
}

// fsync of a directory, so a rename in it is durable. Filesystems that cannot sync a directory
// say EINVAL (or EROFS/ENOTSUP): nothing more can be done there, and the rename has happened.
int sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  if (err == EINVAL || err == EROFS || err == ENOTSUP) err = 0;
  return err;
}

[[noreturn]] void io_fail(const std::string& who, const std::string& path, const std::string& what, int err) {
  fail(who, ": '", path, "': ", what, ": ", std::strerror(err));
}

// Refuses a destination that exists and is not a regular file (rename would fail or replace a
// directory entry the user did not mean).
void check_destination(const std::string& path, const std::string& who) {
  const fs::path p(path);
  RETORT_CHECK(!path.empty(), who, ": empty output path");
  RETORT_CHECK(p.has_filename(), who, ": '", path, "' names a directory, not a file");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    fail(who, ": '", path, "' exists and is not a regular file (", S_ISDIR(st.st_mode) ? "a directory" : "a device or special file",
         "): refusing to write over it");
}

// Creates the temporary file exclusively; returns its fd and sets *tmp.
int create_temp(const std::string& path, const std::string& who, std::string* tmp) {
  for (int attempt = 0;; ++attempt) {
    *tmp = temp_path_for(path);
    const int fd = ::open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST || attempt >= 100)
      io_fail(who, path, "cannot open the temporary file '" + *tmp + "' for writing", errno);
  }
}

}  // namespace

std::string temp_path_for(const std::string& path) {
  const fs::path p(path);
  return (dir_of(p) / (p.filename().string() + kTempFileMarker + std::to_string(::getpid()) + "." +
                       std::to_string(g_temp_counter.fetch_add(1))))
      .string();
}

int remove_stale_temp_files(const std::string& path) {
  const fs::path p(path);
  const std::string prefix = p.filename().string() + kTempFileMarker;
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(dir_of(p), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    // "<pid>.<n>" after the prefix, digits only.
    const std::string rest = name.substr(prefix.size());
    const std::size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || dot + 1 == rest.size() ||
        rest.find_first_not_of("0123456789.") != std::string::npos || rest.find('.', dot + 1) != std::string::npos)
      continue;
    long long pid = 0;
    try {
      pid = std::stoll(rest.substr(0, dot));
    } catch (const std::exception&) {
      continue;
    }
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

AtomicFile::AtomicFile(std::string path, std::string who) : path_(std::move(path)), who_(std::move(who)) {
  check_destination(path_, who_);
  remove_stale_temp_files(path_);
  fd_ = create_temp(path_, who_, &tmp_);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::fail_io(const std::string& what, int err) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());
  io_fail(who_, path_, what, err);
}

void AtomicFile::flush_buffer() {
  if (buffer_.empty()) return;
  if (const int err = write_all(fd_, buffer_.data(), buffer_.size()))
    fail_io("writing '" + tmp_ + "' failed", err);
  buffer_.clear();
}

void AtomicFile::write(const void* data, std::size_t n) {
  RETORT_CHECK(fd_ >= 0 && !committed_, who_, ": '", path_, "': write after commit or failure");
  if (n == 0) return;
  if (buffer_.size() + n <= kBufferBytes) {
    buffer_.append(static_cast<const char*>(data), n);
    return;
  }
  flush_buffer();
  if (n < kBufferBytes) {
    buffer_.append(static_cast<const char*>(data), n);
    return;
  }
  if (const int err = write_all(fd_, static_cast<const char*>(data), n)) fail_io("writing '" + tmp_ + "' failed", err);
}

void AtomicFile::commit() {
  RETORT_CHECK(fd_ >= 0 && !committed_, who_, ": '", path_, "': commit after commit or failure");
  flush_buffer();
  if (const int err = sync_fd(fd_)) fail_io("flushing '" + tmp_ + "' to disk failed", err);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    io_fail(who_, path_, "closing '" + tmp_ + "' failed", err);
  }
  publish_file(tmp_, path_, who_);
  committed_ = true;
}

void publish_file(const std::string& temp, const std::string& path, const std::string& who) {
  auto give_up = [&](const std::string& what, int err) {
    ::unlink(temp.c_str());
    io_fail(who, path, what, err);
  };
  // A file written by another program (gnuplot) still needs its data on disk before the rename.
  const int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) give_up("cannot open '" + temp + "'", errno);
  const int err = sync_fd(fd);
  ::close(fd);
  if (err) give_up("flushing '" + temp + "' to disk failed", err);
  if (::rename(temp.c_str(), path.c_str()) != 0) give_up("renaming '" + temp + "' into place failed", errno);
  if (const int derr = sync_dir(dir_of(fs::path(path))))
    io_fail(who, path, "written, but syncing its directory failed", derr);
}

void write_file_atomically(const std::string& path, std::string_view contents, const std::string& who) {
  AtomicFile f(path, who);
  f.write(contents);
  f.commit();
}

void append_file_atomically(const std::string& path, std::string_view text, const std::string& who,
                            std::string_view header_if_new) {
  check_destination(path, who);
  std::string old;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) io_fail(who, path, "cannot open it to append", errno);
  if (fd >= 0) {
    char buf[1 << 16];
    for (;;) {
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        const int err = errno;
        ::close(fd);
        io_fail(who, path, "reading it to append failed", err);
      }
      if (r == 0) break;
      old.append(buf, static_cast<std::size_t>(r));
    }
    ::close(fd);
  }
  AtomicFile f(path, who);
  f.write(old.empty() ? header_if_new : std::string_view(old));
  f.write(text);
  f.commit();
}

namespace {

void probe(const std::string& target, const std::string& who, const std::string& shown) {
  std::string tmp;
  const int fd = create_temp(target, who, &tmp);
  ::close(fd);
  if (::unlink(tmp.c_str()) != 0) io_fail(who, shown, "cannot remove the probe file '" + tmp + "'", errno);
}

void make_dir(const fs::path& dir, const std::string& who, const std::string& shown) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (fs::exists(dir, ec)) fail(who, ": '", shown, "': '", dir.string(), "' exists and is not a directory");
  fs::create_directories(dir, ec);
  if (ec) fail(who, ": '", shown, "': cannot create the directory '", dir.string(), "': ", ec.message());
}

}  // namespace

void check_writable_dir(const std::string& dir, const std::string& who) {
  RETORT_CHECK(!dir.empty(), who, ": empty output directory");
  make_dir(dir, who, dir);
  probe((fs::path(dir) / "probe").string(), who, dir);
}

void check_writable_file(const std::string& path, const std::string& who) {
  check_destination(path, who);
  const fs::path dir = dir_of(fs::path(path));
  make_dir(dir, who, path);
  remove_stale_temp_files(path);
  probe(path, who, path);
}

namespace testing {
void inject_write_fault(std::int64_t after_bytes, int err, bool at_sync) {
  g_fault_err.store(err);
  g_fault_at_sync.store(at_sync);
  g_fault_after.store(after_bytes);
}
}  // namespace testing

}  // namespace retort
