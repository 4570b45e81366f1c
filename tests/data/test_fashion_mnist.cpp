// Fashion-MNIST reader: small IDX gz files written to a temp dir (valid, wrong magic, truncated,
// bad label, missing file, mismatched counts), then the real test split when it is installed
// (statistics computed with numpy from the same files).
#include "data/fashion_mnist.h"

#include <unistd.h>

#include <filesystem>

#include "data/idx.h"
#include "support/helpers.h"
#include "support/temp_dir.h"

using namespace retort;
using retort::testing::TempDir;
using namespace retort::data;
namespace fs = std::filesystem;

namespace {


std::uint8_t pixel(std::size_t i) { return static_cast<std::uint8_t>((i * 37 + 11) % 256); }

std::vector<std::uint8_t> image_bytes(std::uint32_t n) {
  std::vector<std::uint8_t> b(n * 28 * 28);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = pixel(i);
  return b;
}

// Writes the test split (t10k-*) with n images and the given labels.
void write_split(const TempDir& d, std::uint32_t n, const std::vector<std::uint8_t>& labels) {
  write_idx_gz(d.file("t10k-images-idx3-ubyte.gz"), kIdxImagesMagic, {n, 28, 28}, image_bytes(n));
  write_idx_gz(d.file("t10k-labels-idx1-ubyte.gz"), kIdxLabelsMagic, {static_cast<std::uint32_t>(labels.size())},
               labels);
}

}  // namespace

TEST_CASE("fashion_mnist reads small IDX gz files", "[data]") {
  TempDir d("fmnist");
  write_split(d, 3, {9, 0, 4});
  auto ds = load_fashion_mnist(Split::Test, d.path.string());
  REQUIRE(ds.images.sizes() == Shape{3, 1, 28, 28});
  REQUIRE(ds.images.dtype() == kFloat32);
  REQUIRE(ds.labels.sizes() == Shape{3});
  REQUIRE(ds.labels.dtype() == kInt64);
  REQUIRE(ds.labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 0, 4});
  const auto px = ds.images.to_vector<float>();
  for (std::size_t i = 0; i < px.size(); ++i) REQUIRE(px[i] == static_cast<float>(pixel(i)) / 255.0f);

  auto two = load_fashion_mnist(Split::Test, d.path.string(), 2);
  REQUIRE(two.images.sizes() == Shape{2, 1, 28, 28});
  REQUIRE(two.labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 0});
  auto none = load_fashion_mnist(Split::Test, d.path.string(), 0);
  REQUIRE(none.images.sizes() == Shape{0, 1, 28, 28});
  REQUIRE(load_fashion_mnist(Split::Test, d.path.string(), 100).labels.numel() == 3);

  // The generic reader reports the file's count and what it read.
  auto raw = read_idx(d.file("t10k-images-idx3-ubyte.gz"), kIdxImagesMagic, 1);
  REQUIRE(raw.dims == std::vector<std::int64_t>{3, 28, 28});
  REQUIRE(raw.items == 1);
  REQUIRE(raw.bytes.size() == 784);
}

TEST_CASE("fashion_mnist rejects malformed files, naming the file", "[data]") {
  TempDir d("fmnist");
  const std::string images = d.file("t10k-images-idx3-ubyte.gz");
  const std::string labels = d.file("t10k-labels-idx1-ubyte.gz");

  SECTION("missing file") {
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains("cannot open") && Catch::Contains("t10k-labels-idx1-ubyte.gz"));
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Train, d.path.string()), Catch::Contains("train-labels"));
  }
  SECTION("wrong magic") {
    write_split(d, 2, {1, 2});
    write_idx_gz(images, kIdxLabelsMagic, {2}, {1, 2});
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains(images) && Catch::Contains("magic number 2049") && Catch::Contains("expected 2051"));
  }
  SECTION("labels file with the images magic") {
    write_split(d, 2, {1, 2});
    write_idx_gz(labels, kIdxImagesMagic, {2, 28, 28}, image_bytes(2));
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains(labels) && Catch::Contains("expected 2049"));
  }
  SECTION("truncated data") {
    write_split(d, 2, {1, 2});
    auto short_bytes = image_bytes(2);
    short_bytes.resize(1000);
    write_idx_gz(images, kIdxImagesMagic, {2, 28, 28}, short_bytes);
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains(images) && Catch::Contains("truncated") && Catch::Contains("expected 1568") &&
                            Catch::Contains("got 1000"));
    // Only the requested prefix has to be there.
    REQUIRE(load_fashion_mnist(Split::Test, d.path.string(), 1).labels.numel() == 1);
  }
  SECTION("truncated header") {
    write_split(d, 2, {1, 2});
    write_idx_gz(labels, kIdxLabelsMagic, {}, {});
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains(labels) && Catch::Contains("truncated header"));
  }
  SECTION("gzip stream cut short") {
    write_split(d, 50, std::vector<std::uint8_t>(50, 3));
    fs::resize_file(images, fs::file_size(images) / 2);
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains(images) && Catch::Contains("truncated"));
  }
  SECTION("label out of range") {
    write_split(d, 3, {1, 10, 2});
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains(labels) && Catch::Contains("label 10 at index 1") && Catch::Contains("0..9"));
  }
  SECTION("counts disagree") {
    write_split(d, 3, {1, 2});
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains("3 images") && Catch::Contains("2 labels"));
  }
  SECTION("images not 28x28") {
    write_split(d, 1, {1});
    write_idx_gz(images, kIdxImagesMagic, {1, 14, 56}, image_bytes(1));
    REQUIRE_THROWS_WITH(load_fashion_mnist(Split::Test, d.path.string()),
                        Catch::Contains("14x56") && Catch::Contains("expected 28x28"));
  }
}

TEST_CASE("fashion_mnist class names", "[data]") {
  REQUIRE(std::string(fashion_mnist_class_name(9)) == "Ankle boot");
  REQUIRE(std::string(fashion_mnist_class_name(0)) == "T-shirt/top");
  REQUIRE_THROWS_WITH(fashion_mnist_class_name(10), Catch::Contains("0..9"));
}

TEST_CASE("fashion_mnist loads the real test split when installed", "[data][real]") {
  if (!fs::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not installed at " << kFashionMnistDir << "; real-data checks not run");
    return;
  }
  auto ds = load_fashion_mnist(Split::Test);
  REQUIRE(ds.images.sizes() == Shape{10000, 1, 28, 28});
  const auto labels = ds.labels.to_vector<std::int64_t>();
  REQUIRE(labels.size() == 10000);
  REQUIRE(labels[0] == 9);  // ankle boot
  REQUIRE(labels[1] == 2);
  REQUIRE(labels.back() == 5);
  std::vector<int> counts(10, 0);
  for (auto l : labels) ++counts[static_cast<std::size_t>(l)];
  REQUIRE(counts == std::vector<int>(10, 1000));

  // numpy: first image Σpixel = 33456 (Σ/255 = 131.2), pixel (14,14) = 110, mean over all 0.2868492807.
  const float* px = ds.images.data<float>();
  double first = 0, all = 0, lo = 1, hi = 0;
  for (std::int64_t i = 0; i < ds.images.numel(); ++i) {
    if (i < 784) first += px[i];
    all += px[i];
    lo = std::min<double>(lo, px[i]);
    hi = std::max<double>(hi, px[i]);
  }
  REQUIRE(first == Approx(131.2).epsilon(1e-6));
  REQUIRE(px[14 * 28 + 14] == 110.0f / 255.0f);
  REQUIRE(all / static_cast<double>(ds.images.numel()) == Approx(0.2868492807122849).epsilon(1e-6));
  REQUIRE(lo == 0.0);
  REQUIRE(hi == 1.0);

  auto train = load_fashion_mnist(Split::Train, kFashionMnistDir, 5);
  REQUIRE(train.labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 0, 0, 3, 0});
}
