// Derived modalities (data/modality.h): BT.601 grayscale and the replicate-border Sobel magnitude
// against hand-computed values, channel statistics, chunked statistics against the whole batch,
// and the paired view: normalised RGB and modality from one image, an augmentation applied
// before the pairing holding for both halves.
#include "data/modality.h"

#include <catch2/catch.hpp>

#include <cmath>

#include "data/transforms.h"
#include "support/helpers.h"
#include "tensor/views.h"

using namespace retort;
using namespace retort::data;

namespace {
// A single-channel image [1, 1, H, W] from rows.
Tensor plane(const std::vector<std::vector<double>>& rows) {
  std::vector<double> v;
  for (const auto& r : rows) v.insert(v.end(), r.begin(), r.end());
  return from_vector(v, {1, 1, static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(rows[0].size())},
                     kFloat64);
}
}  // namespace

TEST_CASE("grayscale uses the BT.601 luma weights", "[data]") {
  // Two 1x2 RGB images: pixels (1,0,0), (0,1,0) and (0,0,1), (0.2,0.4,0.6).
  Tensor x = from_vector(std::vector<double>{1, 0, 0, 1, 0, 0,          // image 0: R, G, B planes
                                             0, 0.2, 0, 0.4, 1, 0.6},   // image 1
                         {2, 3, 1, 2}, kFloat64);
  Tensor g = grayscale(x);
  REQUIRE(g.sizes() == Shape{2, 1, 1, 2});
  auto v = g.to_vector<double>();
  CHECK(v[0] == Approx(0.299).margin(1e-15));
  CHECK(v[1] == Approx(0.587).margin(1e-15));
  CHECK(v[2] == Approx(0.114).margin(1e-15));
  CHECK(v[3] == Approx(0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6).margin(1e-15));  // 0.3630
  // Float32 in, float32 out.
  CHECK(grayscale(x.to(kFloat32)).dtype() == kFloat32);
  CHECK_THROWS_WITH(grayscale(zeros({2, 1, 4, 4})), Catch::Contains("grayscale: expected a batch [B, 3, H, W]"));
}

TEST_CASE("sobel_magnitude against hand-computed values", "[data]") {
  // A single bright pixel: replicate border, corners √2, edge middles 2, centre 0.
  auto dot = sobel_magnitude(plane({{0, 0, 0}, {0, 1, 0}, {0, 0, 0}})).to_vector<double>();
  const double r2 = std::sqrt(2.0);
  std::vector<double> want{r2, 2, r2, 2, 0, 2, r2, 2, r2};
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(dot[i] == Approx(want[i]).margin(1e-12));
  // A horizontal ramp g = w: interior |Gx| = (w+1 − (w−1))·(1+2+1) = 8, border columns 4 (the
  // replicated pixel halves the difference); Gy = 0.
  auto ramp = sobel_magnitude(plane({{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}})).to_vector<double>();
  for (int h = 0; h < 3; ++h) {
    CHECK(ramp[h * 4 + 0] == Approx(4));
    CHECK(ramp[h * 4 + 1] == Approx(8));
    CHECK(ramp[h * 4 + 2] == Approx(8));
    CHECK(ramp[h * 4 + 3] == Approx(4));
  }
  // A vertical ramp: the same, transposed (Gy).
  auto vert = sobel_magnitude(plane({{0, 0}, {1, 1}, {2, 2}})).to_vector<double>();
  std::vector<double> wv{4, 4, 8, 8, 4, 4};
  for (std::size_t i = 0; i < wv.size(); ++i) CHECK(vert[i] == Approx(wv[i]));
  // A flat image has no edges, borders included.
  Tensor flat = full({2, 3, 5, 5}, 0.7);
  CHECK(testing::max_abs_diff(sobel_magnitude(flat), zeros({2, 3, 5, 5})) < 1e-6);
}

TEST_CASE("to_modality and modality names", "[data]") {
  Tensor x = testing::random_tensor({2, 3, 6, 5}, kFloat32, 7);
  REQUIRE_ALLCLOSE(to_modality(x, Modality::Gray), grayscale(x), 0, 0);
  REQUIRE_ALLCLOSE(to_modality(x, Modality::Edge), sobel_magnitude(grayscale(x)), 0, 0);
  Tensor both = to_modality(x, Modality::GrayEdge);
  REQUIRE(both.sizes() == Shape{2, 2, 6, 5});
  REQUIRE_ALLCLOSE(ops::narrow(both, 1, 1, 1).contiguous(), sobel_magnitude(grayscale(x)), 0, 0);
  for (Modality m : {Modality::Gray, Modality::Edge, Modality::GrayEdge})
    CHECK(parse_modality(modality_name(m)) == m);
  CHECK(modality_channels(Modality::GrayEdge) == 2);
  CHECK_THROWS_WITH(parse_modality("depth"), Catch::Contains("unknown modality 'depth'"));
}

TEST_CASE("channel statistics, whole and in chunks", "[data]") {
  auto [m, s] = channel_mean_std(from_vector(std::vector<double>{1, 2, 3, 4, 10, 10, 10, 10}, {1, 2, 2, 2}, kFloat64));
  CHECK(m[0] == Approx(2.5));
  CHECK(s[0] == Approx(std::sqrt(1.25)));
  CHECK(m[1] == Approx(10));
  CHECK(s[1] == Approx(0).margin(1e-12));
  Tensor x = testing::random_tensor({7, 3, 8, 8}, kFloat64, 3);
  for (Modality mod : {Modality::Gray, Modality::GrayEdge}) {
    auto [wm, ws] = channel_mean_std(to_modality(x, mod));
    auto [cm, cs] = modality_mean_std(x, mod, /*chunk=*/3);  // 3 + 3 + 1 images
    for (std::size_t c = 0; c < wm.size(); ++c) {
      CHECK(cm[c] == Approx(wm[c]).epsilon(1e-12));
      CHECK(cs[c] == Approx(ws[c]).epsilon(1e-10));
    }
  }
}

TEST_CASE("the paired view: RGB and modality of one image, one augmentation", "[data]") {
  Tensor x = testing::random_tensor({4, 3, 8, 8}, kFloat32, 11);
  const std::vector<double> mean{0.5, 0.4, 0.3}, sd{0.2, 0.25, 0.3}, mm{0.45}, ms{0.22};
  Tensor p = paired_modality(x, Modality::Gray, mean, sd, mm, ms);
  REQUIRE(p.sizes() == Shape{4, 4, 8, 8});
  REQUIRE_ALLCLOSE(ops::narrow(p, 1, 0, 3).contiguous(), normalize(x, mean, sd), 0, 0);
  REQUIRE_ALLCLOSE(ops::narrow(p, 1, 3, 1).contiguous(), normalize(grayscale(x), mm, ms), 0, 0);
  // Crop + flip, then pairing: both halves are the same crop and flip of the sample, i.e. the
  // pairing of the augmented RGB image.
  BatchTransform t = compose({RandomCrop{8, 2}, RandomHFlip{}, PairedModality{Modality::GrayEdge, mean, sd,
                                                                              {0.4, 1.0}, {0.2, 0.5}}});
  Batch b{x, zeros({4}, kInt64), zeros({4}, kInt64)};
  Generator g1(5);
  t(b, g1);
  Generator g2(5);
  Tensor aug = random_hflip(random_crop(x, 8, 2, g2), g2);
  REQUIRE_ALLCLOSE(b.inputs, paired_modality(aug, Modality::GrayEdge, mean, sd, {0.4, 1.0}, {0.2, 0.5}), 0, 0);
  CHECK_THROWS_WITH(paired_modality(x, Modality::GrayEdge, mean, sd, mm, ms),
                    Catch::Contains("normalize: input [4,2,8,8] has 2 channels but mean has 1"));
}
