// CIFAR-100 reader: small binary files in the official layout written to a temp dir (values, the
// fine and the coarse label, limits, the byte-keeping Dataset, the tarball's folder, every refusal:
// missing file, truncated record, bad fine or coarse label, empty or short split) and the standard
// augmentation through a DataLoader. The real data: test_cifar100_real.cpp.
#include "data/cifar100.h"

#include <filesystem>
#include <fstream>
#include <memory>

#include "data/loader.h"
#include "data/transforms.h"
#include "support/helpers.h"
#include "support/temp_dir.h"

using namespace retort;
using retort::testing::TempDir;
using namespace retort::data;
namespace fs = std::filesystem;

namespace {

// Pixel byte k (0..3071) of the image with global index r: distinct across nearby images.
std::uint8_t pixel(std::int64_t r, std::int64_t k) { return static_cast<std::uint8_t>((r * 31 + k * 7 + 3) % 256); }

// Writes records (coarse, fine) for global indices first, first+1, …, plus `extra` stray bytes.
void write_file(const fs::path& p, std::int64_t first, const std::vector<std::pair<int, int>>& labels,
                std::size_t extra = 0) {
  std::ofstream out(p, std::ios::binary);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out.put(static_cast<char>(labels[i].first));
    out.put(static_cast<char>(labels[i].second));
    for (std::int64_t k = 0; k < kCifarImageBytes; ++k)
      out.put(static_cast<char>(pixel(first + static_cast<std::int64_t>(i), k)));
  }
  for (std::size_t i = 0; i < extra; ++i) out.put('\x05');
}

// Five train records: coarse 4, 1, 14, 8, 19 with fine 0, 1, 2, 3, 99.
const std::vector<std::pair<int, int>> kTrain{{4, 0}, {1, 1}, {14, 2}, {8, 3}, {19, 99}};

std::vector<std::int64_t> labels_of(const CifarImages& d) { return d.labels.to_vector<std::int64_t>(); }

}  // namespace

TEST_CASE("cifar100 reads records: two label bytes, then the R, G, B planes", "[data]") {
  TempDir d("cifar100");
  // Coarse 13, fine 79; red plane all 10, green 20, blue 30, except green (1, 2) = 200, blue (31, 0) = 255.
  {
    std::ofstream out(d.path / "test.bin", std::ios::binary);
    out.put(13);
    out.put(79);
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 1024; ++k) {
        int v = 10 * (c + 1);
        if (c == 1 && k == 1 * 32 + 2) v = 200;
        if (c == 2 && k == 31 * 32 + 0) v = 255;
        out.put(static_cast<char>(v));
      }
  }
  auto ds = load_cifar100(Split::Test, d.str(), Cifar100Labels::Fine, 1);  // a whole split has 10,000
  REQUIRE(ds.images.sizes() == Shape{1, 3, 32, 32});
  REQUIRE(ds.images.dtype() == kFloat32);
  REQUIRE(ds.labels.sizes() == Shape{1});
  REQUIRE(ds.labels.dtype() == kInt64);
  REQUIRE(ds.labels.item<std::int64_t>() == 79);
  const float* px = ds.images.data<float>();
  auto at = [&](int c, int h, int w) { return px[(c * 32 + h) * 32 + w]; };
  REQUIRE(at(0, 0, 0) == 10.0f / 255.0f);
  REQUIRE(at(0, 31, 31) == 10.0f / 255.0f);
  REQUIRE(at(1, 0, 0) == 20.0f / 255.0f);
  REQUIRE(at(1, 1, 2) == 200.0f / 255.0f);
  REQUIRE(at(1, 2, 1) == 20.0f / 255.0f);
  REQUIRE(at(2, 5, 5) == 30.0f / 255.0f);
  REQUIRE(at(2, 31, 0) == 1.0f);

  CifarBytes coarse = read_cifar100(Split::Test, d.str(), Cifar100Labels::Coarse, 1);
  REQUIRE(coarse.labels == std::vector<std::uint8_t>{13});
  REQUIRE(coarse.classes == 20);
  REQUIRE(read_cifar100(Split::Test, d.str(), Cifar100Labels::Fine, 1).classes == 100);
  REQUIRE(coarse.pixels == read_cifar100(Split::Test, d.str(), Cifar100Labels::Fine, 1).pixels);
}

TEST_CASE("cifar100 gives fine or coarse labels, with limits, as a Dataset", "[data]") {
  TempDir d("cifar100");
  write_file(d.path / "train.bin", 0, kTrain);
  write_file(d.path / "test.bin", 100, {{0, 30}, {18, 8}});
  auto fine = load_cifar100(Split::Train, d.str(), Cifar100Labels::Fine, 5);
  REQUIRE(fine.images.sizes() == Shape{5, 3, 32, 32});
  REQUIRE(labels_of(fine) == std::vector<std::int64_t>{0, 1, 2, 3, 99});
  REQUIRE(labels_of(load_cifar100(Split::Train, d.str(), Cifar100Labels::Coarse, 5)) ==
          std::vector<std::int64_t>{4, 1, 14, 8, 19});
  const float* px = fine.images.data<float>();
  for (std::int64_t r = 0; r < 5; ++r)
    for (std::int64_t k = 0; k < kCifarImageBytes; ++k)
      REQUIRE(px[r * kCifarImageBytes + k] == static_cast<float>(pixel(r, k)) / 255.0f);
  REQUIRE(labels_of(load_cifar100(Split::Train, d.str(), Cifar100Labels::Fine, 3)) ==
          std::vector<std::int64_t>{0, 1, 2});
  REQUIRE(labels_of(load_cifar100(Split::Test, d.str(), Cifar100Labels::Coarse, 2)) ==
          std::vector<std::int64_t>{0, 18});

  // The byte-keeping Dataset (CIFAR-10's type) gives the same tensors, per sample and gathered.
  Cifar100Dataset bytes(Split::Train, d.str(), Cifar100Labels::Coarse, 5);
  const CifarDataset& base = bytes;
  REQUIRE(base.size() == 5);
  REQUIRE(base.classes() == 20);
  Example e = bytes.get(4);
  REQUIRE(e.input.sizes() == Shape{3, 32, 32});
  REQUIRE(e.target.item<std::int64_t>() == 19);
  REQUIRE(e.input.to_vector<float>()[100] == static_cast<float>(pixel(4, 100)) / 255.0f);
  Batch b = bytes.get_batch({3, 0, 3});
  REQUIRE(b.inputs.sizes() == Shape{3, 3, 32, 32});
  REQUIRE(b.targets.to_vector<std::int64_t>() == std::vector<std::int64_t>{8, 4, 8});
  REQUIRE(b.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 0, 3});
  const float* bp = b.inputs.data<float>();
  for (std::int64_t k = 0; k < kCifarImageBytes; ++k) {
    REQUIRE(bp[k] == px[3 * kCifarImageBytes + k]);
    REQUIRE(bp[kCifarImageBytes + k] == px[k]);
  }
  REQUIRE_THROWS_WITH(bytes.get(5), Catch::Contains("index 5 out of range") && Catch::Contains("5 examples"));
}

TEST_CASE("cifar100 reads a tarball unpacked into the given directory", "[data]") {
  TempDir d("cifar100");
  const fs::path nested = d.path / kCifar100TarballFolder;
  fs::create_directories(nested);
  write_file(nested / "train.bin", 0, kTrain);
  write_file(nested / "test.bin", 0, {{3, 9}});
  REQUIRE(labels_of(load_cifar100(Split::Train, d.str(), Cifar100Labels::Fine, 5)) ==
          std::vector<std::int64_t>{0, 1, 2, 3, 99});
  REQUIRE(labels_of(load_cifar100(Split::Test, d.str(), Cifar100Labels::Coarse, 1)) == std::vector<std::int64_t>{3});
  // A split file directly in the directory means the copy there is meant.
  write_file(d.path / "train.bin", 0, {{2, 54}});
  REQUIRE(labels_of(load_cifar100(Split::Train, d.str(), Cifar100Labels::Fine, 1)) == std::vector<std::int64_t>{54});
  REQUIRE_THROWS_WITH(load_cifar100(Split::Train, d.str(), Cifar100Labels::Fine, 2),
                      Catch::Contains("2 records of the train split asked for, but its files hold 1") &&
                          !Catch::Contains(kCifar100TarballFolder));
}

TEST_CASE("cifar100 rejects broken directories, naming the file and the offset", "[data]") {
  TempDir d("cifar100");
  const std::string train = (d.path / "train.bin").string(), test = (d.path / "test.bin").string();
  SECTION("a missing file, or a directory in its place") {
    write_file(test, 0, {{1, 1}});
    REQUIRE_THROWS_WITH(load_cifar100(Split::Train, d.str()),
                        Catch::Contains("cifar100: ") && Catch::Contains("missing train.bin") &&
                            Catch::Contains("1 of the 1 files of the train split") &&
                            Catch::Contains("scripts/get-cifar100.sh DIR"));
    fs::create_directory(train);
    REQUIRE_THROWS_WITH(load_cifar100(Split::Train, d.str(), Cifar100Labels::Fine, 1), Catch::Contains("missing train.bin"));
  }
  SECTION("a truncated file names the file, its size and the broken record") {
    write_file(test, 0, {{1, 2}, {3, 4}}, 100);
    REQUIRE_THROWS_WITH(load_cifar100(Split::Test, d.str()),
                        Catch::Contains(test) && Catch::Contains("size 6248 bytes") && Catch::Contains("3074-byte record") &&
                            Catch::Contains("record 2 is truncated (100 of 3074 bytes)"));
    // Checked before reading: a limit inside the intact part fails too.
    REQUIRE_THROWS_WITH(load_cifar100(Split::Test, d.str(), Cifar100Labels::Coarse, 1),
                        Catch::Contains("record 2 is truncated"));
  }
  SECTION("a bad fine label names the file, the record and the label byte's offset") {
    write_file(train, 0, {{4, 0}, {1, 1}, {14, 2}, {5, 100}});
    for (auto kind : {Cifar100Labels::Fine, Cifar100Labels::Coarse})  // checked whichever is kept
      REQUIRE_THROWS_WITH(load_cifar100(Split::Train, d.str(), kind, 4),
                          Catch::Contains(train) && Catch::Contains("fine label 100 at record 3 (byte offset 9223)") &&
                              Catch::Contains("expected 0..99"));
    REQUIRE(load_cifar100(Split::Train, d.str(), Cifar100Labels::Fine, 3).labels.numel() == 3);
  }
  SECTION("a bad coarse label too") {
    write_file(train, 0, {{4, 0}, {20, 1}});
    for (auto kind : {Cifar100Labels::Fine, Cifar100Labels::Coarse})
      REQUIRE_THROWS_WITH(load_cifar100(Split::Train, d.str(), kind, 2),
                          Catch::Contains(train) && Catch::Contains("coarse label 20 at record 1 (byte offset 3074)") &&
                              Catch::Contains("expected 0..19"));
  }
  SECTION("a failed load leaves the caller's data as it was") {
    write_file(test, 0, {{4, 7}});
    CifarImages ds = load_cifar100(Split::Test, d.str(), Cifar100Labels::Fine, 1);
    write_file(test, 0, {{4, 7}, {255, 255}});
    REQUIRE_THROWS_WITH(ds = load_cifar100(Split::Test, d.str(), Cifar100Labels::Fine, 2),
                        Catch::Contains("coarse label 255 at record 1"));
    REQUIRE(labels_of(ds) == std::vector<std::int64_t>{7});
  }
}

TEST_CASE("cifar100 refuses an empty or short split unless a subset is asked for", "[data]") {
  TempDir d("cifar100");
  const std::string train = (d.path / "train.bin").string(), test = (d.path / "test.bin").string();
  std::ofstream(test, std::ios::binary).flush();
  REQUIRE_THROWS_WITH(read_cifar100(Split::Test, d.str()),
                      Catch::Contains("incomplete test split") && Catch::Contains(test + " holds 0 records (0 bytes)") &&
                          Catch::Contains("CIFAR-100's test.bin holds 10000 records (30740000 bytes)"));
  write_file(test, 0, {{1, 2}, {3, 4}});
  REQUIRE_THROWS_WITH(load_cifar100(Split::Test, d.str()),
                      Catch::Contains(test + " holds 2 records (6148 bytes)") && Catch::Contains("positive limit"));
  REQUIRE_THROWS_WITH(load_cifar100(Split::Test, d.str(), Cifar100Labels::Fine, 3),
                      Catch::Contains("3 records of the test split asked for, but its files hold 2"));
  REQUIRE_THROWS_WITH(load_cifar100(Split::Test, d.str(), Cifar100Labels::Fine, 0),
                      Catch::Contains("a limit of 0 records asks for an empty test split"));
  REQUIRE_THROWS_WITH(Cifar100Dataset(Split::Test, d.str(), Cifar100Labels::Fine, 0), Catch::Contains("empty test split"));

  // Whole splits of the official sizes (sparse files: zero records, labels 0, valid).
  fs::resize_file(test, static_cast<std::uintmax_t>(kCifar100TestBytes));
  REQUIRE(read_cifar100(Split::Test, d.str()).size == 10000);
  std::ofstream(train, std::ios::binary).flush();
  fs::resize_file(train, static_cast<std::uintmax_t>(kCifar100TestBytes));  // 10,000 of the 50,000
  REQUIRE_THROWS_WITH(read_cifar100(Split::Train, d.str(), Cifar100Labels::Coarse),
                      Catch::Contains(train + " holds 10000 records") &&
                          Catch::Contains("CIFAR-100's train.bin holds 50000 records (153700000 bytes)"));
  fs::resize_file(train, static_cast<std::uintmax_t>(kCifar100TrainBytes));
  Cifar100Dataset whole(Split::Train, d.str());
  REQUIRE(whole.size() == 50000);
  REQUIRE(whole.classes() == 100);
}

TEST_CASE("cifar100 class names", "[data]") {
  REQUIRE(std::string(cifar100_class_name(0)) == "apple");
  REQUIRE(std::string(cifar100_class_name(99)) == "worm");
  REQUIRE(std::string(cifar100_class_name(55)) == "otter");
  REQUIRE(std::string(cifar100_class_name(0, Cifar100Labels::Coarse)) == "aquatic_mammals");
  REQUIRE(std::string(cifar100_class_name(19, Cifar100Labels::Coarse)) == "vehicles_2");
  REQUIRE_THROWS_WITH(cifar100_class_name(100), Catch::Contains("fine label 100 is not in 0..99"));
  REQUIRE_THROWS_WITH(cifar100_class_name(20, Cifar100Labels::Coarse), Catch::Contains("0..19"));
  REQUIRE_THROWS_WITH(cifar100_class_name(-1), Catch::Contains("0..99"));
  REQUIRE(cifar100_files(Split::Train) == std::vector<std::string>{"train.bin"});
  REQUIRE(cifar100_files(Split::Test) == std::vector<std::string>{"test.bin"});
}

TEST_CASE("cifar100 batches take RepDistiller's augmentation and normalisation", "[data]") {
  TempDir d("cifar100");
  write_file(d.path / "train.bin", 0, kTrain);
  auto dataset = std::make_shared<Cifar100Dataset>(Split::Train, d.str(), Cifar100Labels::Fine, 5);
  LoaderOptions o;
  o.batch_size = 4;
  o.shuffle = true;
  o.seed = 7;
  o.transform = compose({RandomCrop{32, 4}, RandomHFlip{}, Normalize{kCifar100Mean, kCifar100Std}});
  DataLoader loader(dataset, o);
  std::optional<Batch> b = loader.next();
  REQUIRE(b);
  REQUIRE(b->inputs.sizes() == Shape{4, 3, 32, 32});
  // The same steps by hand on the same samples, from the loader's transform stream of epoch 0.
  Generator gen(epoch_seed(7, 0, kTransformStream));
  const auto idx = b->indices.to_vector<std::int64_t>();
  Tensor x = dataset->get_batch(idx).inputs;
  Tensor expect = normalize(random_hflip(random_crop(x, 32, 4, gen), gen), kCifar100Mean, kCifar100Std);
  REQUIRE(b->inputs.to_vector<float>() == expect.to_vector<float>());
  REQUIRE(b->targets.to_vector<std::int64_t>() == dataset->get_batch(idx).targets.to_vector<std::int64_t>());
  // Normalisation alone: (byte/255 − mean[c]) / std[c], e.g. red of record 0's pixel (0, 0).
  const float n = normalize(x, kCifar100Mean, kCifar100Std).to_vector<float>()[0];
  REQUIRE(n == Approx((pixel(idx[0], 0) / 255.0 - 0.5071) / 0.2675).margin(1e-5));
}
