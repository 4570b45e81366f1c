// CIFAR-10 reader: small binary files written to a temp dir (values and the R,G,B plane order,
// file order of the train split, limits, truncated file, bad label, missing files, empty or short
// splits), then the real
// data when the bundled copy beside the checkout (../shared) can prepare it (statistics computed
// with numpy from the same files).
#include "data/cifar10.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/helpers.h"
#include "support/temp_dir.h"

using namespace retort;
using retort::testing::TempDir;
using namespace retort::data;
namespace fs = std::filesystem;

namespace {


// Pixel byte k (0..3071) of the image with global index r: distinct across nearby images.
std::uint8_t pixel(std::int64_t r, std::int64_t k) { return static_cast<std::uint8_t>((r * 31 + k * 7 + 3) % 256); }

// Writes records for global indices first..first+labels.size()−1, plus `extra` stray bytes.
void write_file(const fs::path& p, std::int64_t first, const std::vector<int>& labels, std::size_t extra = 0) {
  std::ofstream out(p, std::ios::binary);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out.put(static_cast<char>(labels[i]));
    for (std::int64_t k = 0; k < kCifar10ImageBytes; ++k) out.put(static_cast<char>(pixel(first + static_cast<std::int64_t>(i), k)));
  }
  for (std::size_t i = 0; i < extra; ++i) out.put('\x05');
}

// Train files with 1, 2, 0, 1, 3 records: labels 0..6 in reading order.
void write_train(const fs::path& dir) {
  write_file(dir / "data_batch_1.bin", 0, {0});
  write_file(dir / "data_batch_2.bin", 1, {1, 2});
  write_file(dir / "data_batch_3.bin", 3, {});
  write_file(dir / "data_batch_4.bin", 3, {3});
  write_file(dir / "data_batch_5.bin", 4, {4, 5, 9});
}

}  // namespace

TEST_CASE("cifar10 reads records with the R, G, B planes in order", "[data]") {
  TempDir d("cifar10");
  // Record 0: red plane all 10, green 20, blue 30, except green (h=1, w=2) = 200 and blue (31, 0) = 255.
  {
    std::ofstream out(d.path / "test_batch.bin", std::ios::binary);
    out.put(7);
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 1024; ++k) {
        int v = 10 * (c + 1);
        if (c == 1 && k == 1 * 32 + 2) v = 200;
        if (c == 2 && k == 31 * 32 + 0) v = 255;
        out.put(static_cast<char>(v));
      }
  }
  auto ds = load_cifar10(Split::Test, d.str(), 1);  // a subset: a whole split has 10,000 records
  REQUIRE(ds.images.sizes() == Shape{1, 3, 32, 32});
  REQUIRE(ds.images.dtype() == kFloat32);
  REQUIRE(ds.labels.sizes() == Shape{1});
  REQUIRE(ds.labels.dtype() == kInt64);
  REQUIRE(ds.labels.item<std::int64_t>() == 7);
  const float* px = ds.images.data<float>();
  auto at = [&](int c, int h, int w) { return px[(c * 32 + h) * 32 + w]; };
  REQUIRE(at(0, 0, 0) == 10.0f / 255.0f);
  REQUIRE(at(0, 31, 31) == 10.0f / 255.0f);
  REQUIRE(at(1, 0, 0) == 20.0f / 255.0f);
  REQUIRE(at(1, 1, 2) == 200.0f / 255.0f);
  REQUIRE(at(1, 2, 1) == 20.0f / 255.0f);
  REQUIRE(at(2, 5, 5) == 30.0f / 255.0f);
  REQUIRE(at(2, 31, 0) == 1.0f);
}

TEST_CASE("cifar10 reads the train files in order, with limits", "[data]") {
  TempDir d("cifar10");
  write_train(d.path);
  write_file(d.path / "test_batch.bin", 100, {8, 8});
  // Small files are read only as an explicit subset (a positive limit); the whole split must be
  // the official one (tested below).
  auto ds = load_cifar10(Split::Train, d.str(), 7);
  REQUIRE(ds.images.sizes() == Shape{7, 3, 32, 32});
  REQUIRE(ds.labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 9});
  const float* px = ds.images.data<float>();
  for (std::int64_t r = 0; r < 7; ++r)
    for (std::int64_t k = 0; k < kCifar10ImageBytes; ++k)
      REQUIRE(px[r * kCifar10ImageBytes + k] == static_cast<float>(pixel(r, k)) / 255.0f);

  // A limit crossing file boundaries (including the empty one) reads only the prefix.
  REQUIRE(load_cifar10(Split::Train, d.str(), 4).labels.to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{0, 1, 2, 3});
  REQUIRE(load_cifar10(Split::Test, d.str(), 2).labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{8, 8});

  // The byte-keeping Dataset gives the same tensors, per sample and gathered in any order.
  Cifar10Dataset bytes(Split::Train, d.str(), 7);
  REQUIRE(bytes.size() == 7);
  Example e = bytes.get(5);
  REQUIRE(e.input.sizes() == Shape{3, 32, 32});
  REQUIRE(e.target.dim() == 0);
  REQUIRE(e.target.item<std::int64_t>() == 5);
  REQUIRE(e.input.to_vector<float>()[100] == static_cast<float>(pixel(5, 100)) / 255.0f);
  Batch b = bytes.get_batch({6, 0, 6});
  REQUIRE(b.inputs.sizes() == Shape{3, 3, 32, 32});
  REQUIRE(b.targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 0, 9});
  REQUIRE(b.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{6, 0, 6});
  const float* bp = b.inputs.data<float>();
  for (std::int64_t k = 0; k < kCifar10ImageBytes; ++k) {
    REQUIRE(bp[k] == px[6 * kCifar10ImageBytes + k]);
    REQUIRE(bp[kCifar10ImageBytes + k] == px[k]);
  }
  REQUIRE_THROWS_WITH(bytes.get(7), Catch::Contains("index 7 out of range") && Catch::Contains("7 examples"));
  REQUIRE_THROWS_WITH(bytes.get_batch({0, -1}), Catch::Contains("index -1"));
}

TEST_CASE("cifar10 rejects broken directories, naming the file", "[data]") {
  TempDir d("cifar10");
  SECTION("missing files are all listed") {
    write_file(d.path / "data_batch_1.bin", 0, {1});
    write_file(d.path / "data_batch_3.bin", 0, {1});
    REQUIRE_THROWS_WITH(load_cifar10(Split::Train, d.str()),
                        Catch::Contains("missing data_batch_2.bin, data_batch_4.bin, data_batch_5.bin") &&
                            Catch::Contains("3 of the 5 files of the train split") && Catch::Contains(d.str()));
    REQUIRE_THROWS_WITH(load_cifar10(Split::Test, d.str()), Catch::Contains("missing test_batch.bin"));
  }
  SECTION("a truncated file names the file, its size and the broken record") {
    write_file(d.path / "test_batch.bin", 0, {1, 2}, 100);
    const std::string path = (d.path / "test_batch.bin").string();
    REQUIRE_THROWS_WITH(load_cifar10(Split::Test, d.str()),
                        Catch::Contains(path) && Catch::Contains("size 6246 bytes") && Catch::Contains("3073") &&
                            Catch::Contains("record 2 is truncated (100 of 3073 bytes)"));
    // Checked before reading: even a limit inside the intact part fails rather than half-trusting it.
    REQUIRE_THROWS_WITH(load_cifar10(Split::Test, d.str(), 1), Catch::Contains("record 2 is truncated"));
  }
  SECTION("a bad label names the file and the record") {
    write_train(d.path);
    write_file(d.path / "data_batch_4.bin", 3, {3, 3, 3, 3, 12});
    const std::string path = (d.path / "data_batch_4.bin").string();
    REQUIRE_THROWS_WITH(load_cifar10(Split::Train, d.str(), 11),
                        Catch::Contains(path) && Catch::Contains("label 12 at record 4 (byte offset 12292)") &&
                            Catch::Contains("0..9"));
    REQUIRE(load_cifar10(Split::Train, d.str(), 7).labels.numel() == 7);  // stops before record 4
  }
  SECTION("a failed load leaves the caller's data as it was") {
    write_file(d.path / "test_batch.bin", 0, {4});
    Cifar10 ds = load_cifar10(Split::Test, d.str(), 1);
    write_file(d.path / "test_batch.bin", 0, {4, 10});
    REQUIRE_THROWS_WITH(ds = load_cifar10(Split::Test, d.str(), 2), Catch::Contains("label 10 at record 1"));
    REQUIRE(ds.labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{4});
  }
}

TEST_CASE("cifar10 refuses an empty or short split unless a subset is asked for", "[data]") {
  TempDir d("cifar10");
  const std::string test = (d.path / "test_batch.bin").string();
  SECTION("an empty test_batch.bin (it used to give 0 images and test_acc -nan%)") {
    std::ofstream(test, std::ios::binary).flush();
    REQUIRE_THROWS_WITH(read_cifar10(Split::Test, d.str()),
                        Catch::Contains("incomplete test split") && Catch::Contains(test + " holds 0 records (0 bytes)") &&
                            Catch::Contains("10000 records (30730000 bytes)"));
  }
  SECTION("a file cut at a record boundary") {
    write_file(test, 0, {1, 2});
    REQUIRE_THROWS_WITH(load_cifar10(Split::Test, d.str()),
                        Catch::Contains(test + " holds 2 records (6146 bytes)") && Catch::Contains("positive limit"));
    // An explicit subset within what is there is fine; beyond it, or empty, is not.
    REQUIRE(load_cifar10(Split::Test, d.str(), 2).labels.numel() == 2);
    REQUIRE_THROWS_WITH(load_cifar10(Split::Test, d.str(), 3),
                        Catch::Contains("3 records of the test split asked for, but its files hold 2"));
    REQUIRE_THROWS_WITH(load_cifar10(Split::Test, d.str(), 0), Catch::Contains("a limit of 0 records asks for an empty test split"));
    REQUIRE_THROWS_WITH(Cifar10Dataset(Split::Test, d.str(), 0), Catch::Contains("empty test split"));
  }
  SECTION("one short file of the train split is named, the complete ones are not") {
    for (const auto& name : cifar10_files(Split::Train)) {
      std::ofstream(d.path / name, std::ios::binary).flush();
      fs::resize_file(d.path / name, static_cast<std::uintmax_t>(kCifar10FileBytes));  // sparse: 10,000 zero records
    }
    fs::resize_file(d.path / "data_batch_3.bin", static_cast<std::uintmax_t>(9999 * kCifar10RecordBytes));
    REQUIRE_THROWS_WITH(read_cifar10(Split::Train, d.str()),
                        Catch::Contains("data_batch_3.bin holds 9999 records") && !Catch::Contains("data_batch_2.bin"));
    fs::resize_file(d.path / "data_batch_3.bin", static_cast<std::uintmax_t>(kCifar10FileBytes));
    REQUIRE(read_cifar10(Split::Train, d.str(), 20001).size == 20001);
  }
  SECTION("a complete file is the whole split") {
    std::ofstream(test, std::ios::binary).flush();
    fs::resize_file(test, static_cast<std::uintmax_t>(kCifar10FileBytes));  // sparse: 10,000 zero records
    Cifar10Bytes b = read_cifar10(Split::Test, d.str());
    REQUIRE(b.size == kCifar10FileRecords);
    REQUIRE(b.labels.size() == 10000);
  }
}

TEST_CASE("cifar10 reads a tarball unpacked into the given directory", "[data]") {
  TempDir d("cifar10");
  const fs::path nested = d.path / kCifar10TarballFolder;
  fs::create_directories(nested);
  write_train(nested);
  write_file(nested / "test_batch.bin", 0, {8, 1});
  Cifar10 train = load_cifar10(Split::Train, d.str(), 7);
  REQUIRE(train.labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 9});
  REQUIRE(load_cifar10(Split::Test, d.str(), 2).labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{8, 1});
  // A split file directly in the directory means the copy there is meant, and incomplete.
  write_file(d.path / "data_batch_1.bin", 0, {0});
  REQUIRE_THROWS_WITH(load_cifar10(Split::Train, d.str(), 1),
                      Catch::Contains("missing data_batch_2.bin") && !Catch::Contains(kCifar10TarballFolder));
  REQUIRE(load_cifar10(Split::Test, d.str(), 2).labels.numel() == 2);
}

TEST_CASE("cifar10 class names", "[data]") {
  REQUIRE(std::string(cifar10_class_name(0)) == "airplane");
  REQUIRE(std::string(cifar10_class_name(9)) == "truck");
  REQUIRE(std::string(cifar10_class_names()[3]) == "cat");
  REQUIRE_THROWS_WITH(cifar10_class_name(10), Catch::Contains("0..9"));
  REQUIRE(cifar10_files(Split::Train).size() == 5);
  REQUIRE(cifar10_files(Split::Test) == std::vector<std::string>{"test_batch.bin"});
}

TEST_CASE("cifar10 loads the real data prepared from the bundled copy", "[data][real]") {
  const std::string prepare = RETORT_SOURCE_DIR "/../shared/data/prepare_cifar10.sh";
  if (!fs::exists(prepare)) {
    WARN("no bundled CIFAR-10 at " << prepare << "; real-data checks not run");
    return;
  }
  // Prepared once into the build tree, beside this executable; later runs find it complete.
  const fs::path dir = fs::read_symlink("/proc/self/exe").parent_path() / "cifar10";
  const std::string cmd = "bash '" RETORT_SOURCE_DIR "/scripts/get-cifar10.sh' '" + dir.string() + "' >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);

  auto test = load_cifar10(Split::Test, dir.string());
  REQUIRE(test.images.sizes() == Shape{10000, 3, 32, 32});
  const auto labels = test.labels.to_vector<std::int64_t>();
  std::vector<int> counts(10, 0);
  for (auto l : labels) ++counts[static_cast<std::size_t>(l)];
  REQUIRE(counts == std::vector<int>(10, 1000));
  // numpy on the same file: labels 2, 4, 6, 1, 9 first and 6 last; image 0 sums to 137536 (bytes),
  // its pixel (0, 0) is R 12, G 15, B 4; per-channel means of byte/255 below.
  REQUIRE(std::vector<std::int64_t>(labels.begin(), labels.begin() + 5) == std::vector<std::int64_t>{2, 4, 6, 1, 9});
  REQUIRE(labels.back() == 6);
  const float* px = test.images.data<float>();
  REQUIRE(px[0] == 12.0f / 255.0f);
  REQUIRE(px[1024] == 15.0f / 255.0f);
  REQUIRE(px[2048] == 4.0f / 255.0f);
  double first = 0;
  for (std::int64_t i = 0; i < kCifar10ImageBytes; ++i) first += px[i];
  REQUIRE(first == Approx(137536.0 / 255.0).epsilon(1e-6));
  const double expect_mean[3] = {0.4940657432, 0.4850636085, 0.4503820193};
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (std::int64_t n = 0; n < 10000; ++n)
      for (std::int64_t k = 0; k < 1024; ++k) s += px[n * kCifar10ImageBytes + c * 1024 + k];
    REQUIRE(s / (10000.0 * 1024.0) == Approx(expect_mean[c]).epsilon(1e-7));
  }

  // The train split as bytes (no 600 MB float copy): 50,000 records, 5,000 per class.
  Cifar10Dataset train(Split::Train, dir.string());
  REQUIRE(train.size() == 50000);
  std::vector<int> train_counts(10, 0);
  for (auto l : train.bytes().labels) ++train_counts[l];
  REQUIRE(train_counts == std::vector<int>(10, 5000));
  REQUIRE(train.bytes().labels[0] == 9);
  REQUIRE(train.bytes().labels[10000] == 8);  // first record of data_batch_2.bin
  REQUIRE(train.bytes().labels[49999] == 7);
  std::int64_t sum = 0;
  for (std::int64_t k = 0; k < kCifar10ImageBytes; ++k) sum += train.bytes().pixels[49999 * kCifar10ImageBytes + k];
  REQUIRE(sum == 210057);
}
