// CIFAR-100 reader on the real data, when the bundled copy beside the checkout (../shared) can
// prepare it: sizes, class and superclass counts, the fine→coarse grouping, the label names, and
// values and statistics computed with numpy from the same files.
#include "data/cifar100.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "data/transforms.h"
#include "support/helpers.h"

using namespace retort;
using namespace retort::data;
namespace fs = std::filesystem;

TEST_CASE("cifar100 loads the real data prepared from the bundled copy", "[data][real]") {
  const std::string prepare = RETORT_SOURCE_DIR "/../shared/data/prepare_cifar100.sh";
  if (!fs::exists(prepare)) {
    WARN("no bundled CIFAR-100 at " << prepare << "; real-data checks not run");
    return;
  }
  // Prepared once into the build tree, beside this executable; later runs find it complete.
  const fs::path dir = fs::read_symlink("/proc/self/exe").parent_path() / "cifar100";
  const std::string cmd = "bash '" RETORT_SOURCE_DIR "/scripts/get-cifar100.sh' '" + dir.string() + "' >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);

  // numpy on the same files: the first and last labels, image sums, pixel (0, 0) of test image 0.
  auto test = load_cifar100(Split::Test, dir.string());
  REQUIRE(test.images.sizes() == Shape{10000, 3, 32, 32});
  const auto fine = test.labels.to_vector<std::int64_t>();
  REQUIRE(std::vector<std::int64_t>(fine.begin(), fine.begin() + 5) == std::vector<std::int64_t>{79, 6, 53, 39, 72});
  REQUIRE(fine.back() == 76);
  const float* px = test.images.data<float>();
  REQUIRE(px[0] == 161.0f / 255.0f);
  REQUIRE(px[1024] == 180.0f / 255.0f);
  REQUIRE(px[2048] == 187.0f / 255.0f);
  const auto test_coarse = read_cifar100(Split::Test, dir.string(), Cifar100Labels::Coarse).labels;
  REQUIRE(std::vector<std::uint8_t>(test_coarse.begin(), test_coarse.begin() + 5) ==
          std::vector<std::uint8_t>{13, 7, 4, 5, 0});

  Cifar100Dataset train(Split::Train, dir.string());
  const CifarBytes& tb = train.bytes();
  const CifarBytes coarse = read_cifar100(Split::Train, dir.string(), Cifar100Labels::Coarse);
  REQUIRE(tb.size == 50000);
  REQUIRE(coarse.size == 50000);
  REQUIRE(tb.pixels == coarse.pixels);
  REQUIRE(tb.labels[0] == 99);
  REQUIRE(coarse.labels[0] == 13);
  REQUIRE(tb.labels[49999] == 77);
  std::int64_t first = 0;
  for (std::int64_t k = 0; k < kCifarImageBytes; ++k) first += tb.pixels[static_cast<std::size_t>(k)];
  REQUIRE(first == 566974);

  // 500 / 100 images per fine class, 2,500 / 500 per superclass; each fine class lies in one
  // superclass, and each superclass has 5 fine classes.
  auto check_split = [](const std::vector<std::uint8_t>& f, const std::vector<std::uint8_t>& c, int per_class) {
    std::vector<int> fine_counts(100, 0), coarse_counts(20, 0), parent(100, -1);
    for (std::size_t i = 0; i < f.size(); ++i) {
      REQUIRE(f[i] < 100);
      REQUIRE(c[i] < 20);
      ++fine_counts[f[i]];
      ++coarse_counts[c[i]];
      if (parent[f[i]] < 0) parent[f[i]] = c[i];
      REQUIRE(parent[f[i]] == c[i]);
    }
    REQUIRE(fine_counts == std::vector<int>(100, per_class));
    REQUIRE(coarse_counts == std::vector<int>(20, 5 * per_class));
    return parent;
  };
  const auto parent = check_split(tb.labels, coarse.labels, 500);
  REQUIRE(check_split(read_cifar100(Split::Test, dir.string()).labels, test_coarse, 100) == parent);
  std::vector<int> children(20, 0);
  for (int p : parent) ++children[static_cast<std::size_t>(p)];
  REQUIRE(children == std::vector<int>(20, 5));
  REQUIRE(std::string(cifar100_class_name(parent[55], Cifar100Labels::Coarse)) == "aquatic_mammals");  // otter

  // The names beside the data (written by the preparing script in the release's order).
  std::ifstream fine_names(dir / "fine_label_names.txt"), coarse_names(dir / "coarse_label_names.txt");
  std::string name;
  for (std::int64_t i = 0; i < kCifar100FineClasses; ++i) {
    REQUIRE(std::getline(fine_names, name));
    REQUIRE(name == cifar100_class_name(i));
  }
  for (std::int64_t i = 0; i < kCifar100CoarseClasses; ++i) {
    REQUIRE(std::getline(coarse_names, name));
    REQUIRE(name == cifar100_class_name(i, Cifar100Labels::Coarse));
  }

  // Per-channel mean and std of the train split (byte/255): numpy's values on these files, and
  // within JPEG noise of RepDistiller's constants for the official release.
  const double expect_mean[3] = {0.5066851549, 0.4864028431, 0.4409517878};
  const double expect_std[3] = {0.2649089623, 0.2552897595, 0.2740160634};
  for (std::size_t c = 0; c < 3; ++c) {
    std::int64_t s = 0, s2 = 0;
    for (std::int64_t n = 0; n < tb.size; ++n)
      for (std::int64_t k = 0; k < 1024; ++k) {
        const std::int64_t v = tb.pixels[static_cast<std::size_t>(n * kCifarImageBytes + static_cast<std::int64_t>(c) * 1024 + k)];
        s += v;
        s2 += v * v;
      }
    const double count = 50000.0 * 1024.0, mean = s / count / 255.0;
    const double sd = std::sqrt(s2 / count / (255.0 * 255.0) - mean * mean);
    REQUIRE(mean == Approx(expect_mean[c]).epsilon(1e-8));
    REQUIRE(sd == Approx(expect_std[c]).epsilon(1e-6));
    REQUIRE(std::abs(mean - kCifar100Mean[c]) < 1e-3);
    REQUIRE(std::abs(sd - kCifar100Std[c]) < 3e-3);
  }
}
