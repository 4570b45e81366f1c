// AtomicFile (tensor/atomic_file.h): complete files or none, write errors reported (an injected
// ENOSPC mid-file and at fsync, as a full disk gives them), temporary files cleaned up after a
// failure and after a killed writer, and the writability probes used before long runs.
#include "tensor/atomic_file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/helpers.h"
#include "support/temp_dir.h"

using namespace retort;
using retort::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Names in dir that contain Retort's temporary-file marker.
std::vector<std::string> temp_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(kTempFileMarker) != std::string::npos)
      out.push_back(e.path().filename().string());
  return out;
}

// Turns the injected fault off when a test ends, whatever happens.
struct FaultGuard {
  ~FaultGuard() { retort::testing::inject_write_fault(-1); }
};

// The pid of a process that has exited (and been reaped).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

}  // namespace

TEST_CASE("AtomicFile writes the whole file and leaves no temporary behind", "[tensor][io]") {
  TempDir d("atomic");
  const std::string path = d.file("out.csv");
  std::string big(200000, 'x');  // past the 64 KB buffer: the direct-write path too
  {
    AtomicFile f(path, "test");
    REQUIRE(fs::exists(f.temp_path()));
    REQUIRE_THAT(f.temp_path(), Catch::Contains("out.csv.retort-tmp."));
    REQUIRE_FALSE(fs::exists(path));  // nothing under the final name before commit
    f.write("a,b\n");
    f.write(big);
    f.write(std::string_view("end\n"));
    f.commit();
  }
  REQUIRE(read_all(path) == "a,b\n" + big + "end\n");
  REQUIRE(temp_files(d.path).empty());
  // Replacing keeps the old file until the new one is complete, then swaps it whole.
  write_file_atomically(path, "new\n", "test");
  REQUIRE(read_all(path) == "new\n");
  write_file_atomically(path, "", "test");
  REQUIRE(fs::exists(path));
  REQUIRE(fs::file_size(path) == 0);
  REQUIRE(temp_files(d.path).empty());
}

TEST_CASE("AtomicFile abandoned before commit leaves the old file and no temporary", "[tensor][io]") {
  TempDir d("atomic");
  const std::string path = d.file("keep.txt");
  write_file_atomically(path, "old\n", "test");
  {
    AtomicFile f(path, "test");
    f.write("half a ne");
  }  // e.g. an exception between writes
  REQUIRE(read_all(path) == "old\n");
  REQUIRE(temp_files(d.path).empty());
}

TEST_CASE("AtomicFile reports a full disk instead of writing a short file", "[tensor][io]") {
  TempDir d("atomic");
  FaultGuard guard;
  const std::string path = d.file("metrics.csv");
  write_file_atomically(path, "the previous complete file\n", "test");

  SECTION("ENOSPC in the middle of the data") {
    retort::testing::inject_write_fault(100);
    std::string rows(300000, 'r');
    REQUIRE_THROWS_WITH(write_file_atomically(path, rows, "write_epoch_csv"),
                        Catch::Contains("write_epoch_csv: '" + path + "'") && Catch::Contains("writing") &&
                            Catch::Contains("No space left on device"));
  }
  SECTION("ENOSPC on the buffered tail, at commit") {
    retort::testing::inject_write_fault(0);
    AtomicFile f(path, "test");
    f.write("small");  // buffered: the failure shows at commit, not later, not never
    REQUIRE_THROWS_WITH(f.commit(), Catch::Contains("No space left on device"));
  }
  SECTION("EIO from fsync (delayed allocation failing at flush time)") {
    retort::testing::inject_write_fault(0, EIO, /*at_sync=*/true);
    REQUIRE_THROWS_WITH(write_file_atomically(path, "x", "test"),
                        Catch::Contains("flushing") && Catch::Contains("Input/output error"));
  }
  retort::testing::inject_write_fault(-1);
  REQUIRE(read_all(path) == "the previous complete file\n");
  REQUIRE(temp_files(d.path).empty());
}

TEST_CASE("AtomicFile refuses destinations that are not regular files", "[tensor][io]") {
  TempDir d("atomic");
  fs::create_directories(d.path / "adir");
  REQUIRE_THROWS_WITH(write_file_atomically(d.file("adir"), "x", "save"),
                      Catch::Contains("save: '" + d.file("adir") + "' exists and is not a regular file") &&
                          Catch::Contains("a directory"));
  REQUIRE(fs::is_directory(d.path / "adir"));
  REQUIRE_THROWS_WITH(write_file_atomically("/dev/full", "x", "save"),
                      Catch::Contains("not a regular file") && Catch::Contains("device"));
  REQUIRE_THROWS_WITH(write_file_atomically(d.file("no_such_dir/x"), "x", "save"),
                      Catch::Contains("cannot open the temporary file") &&
                          Catch::Contains("No such file or directory"));
  REQUIRE_THROWS_WITH(write_file_atomically(d.str() + "/", "x", "save"), Catch::Contains("names a directory"));
  REQUIRE(temp_files(d.path).empty());
}

TEST_CASE("AtomicFile removes the temporaries of killed writers, and only those", "[tensor][io]") {
  TempDir d("atomic");
  const std::string path = d.file("teacher.safetensors");
  const std::string dead = "teacher.safetensors.retort-tmp." + std::to_string(dead_pid()) + ".0";
  const std::string live = "teacher.safetensors.retort-tmp.1.0";  // pid 1 is always running
  const std::string mine = "teacher.safetensors.retort-tmp." + std::to_string(::getpid()) + ".999";
  const std::string other = "student.safetensors.retort-tmp." + std::to_string(dead_pid()) + ".0";
  const std::string unrelated = "teacher.safetensors.retort-tmp.notapid";
  for (const auto& n : {dead, live, mine, other, unrelated}) std::ofstream(d.path / n) << "partial";
  write_file_atomically(path, "complete", "test");
  REQUIRE(read_all(path) == "complete");
  REQUIRE_FALSE(fs::exists(d.path / dead));
  for (const auto& n : {live, mine, other, unrelated}) REQUIRE(fs::exists(d.path / n));
  // The writability probe cleans up the same way.
  const std::string dead2 = "teacher.safetensors.retort-tmp." + std::to_string(dead_pid()) + ".7";
  std::ofstream(d.path / dead2) << "partial";
  check_writable_file(path, "--save-teacher");
  REQUIRE_FALSE(fs::exists(d.path / dead2));
  REQUIRE(remove_stale_temp_files(d.file("student.safetensors")) == 1);
  REQUIRE_FALSE(fs::exists(d.path / other));
}

TEST_CASE("check_writable_dir/file probe output places before a run", "[tensor][io]") {
  TempDir d("atomic");
  check_writable_dir(d.file("a/b/c"), "--out");
  REQUIRE(fs::is_directory(d.path / "a/b/c"));
  REQUIRE(fs::is_empty(d.path / "a/b/c"));  // the probe file is gone
  check_writable_file(d.file("x/y/metrics.csv"), "--csv");
  REQUIRE(fs::is_directory(d.path / "x/y"));
  REQUIRE(fs::is_empty(d.path / "x/y"));
  REQUIRE_FALSE(fs::exists(d.path / "x/y/metrics.csv"));

  std::ofstream(d.path / "afile") << "x";
  REQUIRE_THROWS_WITH(check_writable_dir(d.file("afile"), "--out"),
                      Catch::Contains("--out: '" + d.file("afile") + "'") && Catch::Contains("is not a directory"));
  REQUIRE_THROWS_WITH(check_writable_dir(d.file("afile/sub"), "--out"), Catch::Contains("cannot create the directory"));
  REQUIRE_THROWS_WITH(check_writable_file(d.file("afile/m.csv"), "--csv"),
                      Catch::Contains("--csv: '" + d.file("afile/m.csv") + "'") && Catch::Contains("not a directory"));
  REQUIRE_THROWS_WITH(check_writable_file(d.file("a"), "--csv"), Catch::Contains("is not a regular file"));
  REQUIRE_THROWS_WITH(check_writable_file("/dev/null", "--csv"), Catch::Contains("is not a regular file"));
  REQUIRE_THROWS_WITH(check_writable_file("/proc/version", "--csv"), Catch::Contains("--csv"));
}

TEST_CASE("append_file_atomically rewrites the file whole", "[tensor][io]") {
  TempDir d("atomic");
  FaultGuard guard;
  const std::string path = d.file("all.csv");
  append_file_atomically(path, "a,1\n", "test", "key,value\n");
  append_file_atomically(path, "b,2\n", "test", "key,value\n");
  REQUIRE(read_all(path) == "key,value\na,1\nb,2\n");
  retort::testing::inject_write_fault(5);
  REQUIRE_THROWS_WITH(append_file_atomically(path, "c,3\n", "test"), Catch::Contains("No space left"));
  retort::testing::inject_write_fault(-1);
  REQUIRE(read_all(path) == "key,value\na,1\nb,2\n");  // no partial row
  REQUIRE(temp_files(d.path).empty());
}
