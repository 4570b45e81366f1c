// Batch image transforms: normalize against hand-computed values, crop against hand-written
// windows and a padded reference, random crop and flip against the generator stream they are
// specified to draw (offsets recovered from the output itself), reproducibility, compose.
#include "data/transforms.h"

#include <numeric>

#include "support/helpers.h"

using namespace retort;
using namespace retort::data;

namespace {

// x [B, C, H, W] with x[b,c,h,w] = 1 + its row-major index: every value distinct and nonzero.
Tensor iota(const Shape& s, DType dt = kFloat32) {
  std::vector<double> v(static_cast<std::size_t>(shape_numel(s)));
  std::iota(v.begin(), v.end(), 1.0);
  return from_vector(v, s, dt);
}

// Reference window of sample b: xp[b, :, t+i, l+j] for the zero-padded xp, as a [C·size·size] list.
std::vector<float> window(const Tensor& x, std::int64_t b, std::int64_t t, std::int64_t l, std::int64_t size,
                          std::int64_t pad) {
  const auto v = x.to_vector<float>();
  const std::int64_t C = x.size(1), H = x.size(2), W = x.size(3);
  std::vector<float> out;
  for (std::int64_t c = 0; c < C; ++c)
    for (std::int64_t i = 0; i < size; ++i)
      for (std::int64_t j = 0; j < size; ++j) {
        const std::int64_t r = t + i - pad, q = l + j - pad;
        const bool inside = r >= 0 && r < H && q >= 0 && q < W;
        out.push_back(inside ? v[static_cast<std::size_t>(((b * C + c) * H + r) * W + q)] : 0.0f);
      }
  return out;
}

std::vector<float> sample(const Tensor& y, std::int64_t b) {
  const auto v = y.to_vector<float>();
  const auto n = static_cast<std::size_t>(y.numel() / y.size(0));
  return std::vector<float>(v.begin() + static_cast<std::ptrdiff_t>(b * n), v.begin() + static_cast<std::ptrdiff_t>((b + 1) * n));
}

}  // namespace

TEST_CASE("normalize subtracts the channel mean and divides by its std", "[data]") {
  // [2, 3, 1, 2]; mean (0.5, 0.25, 0), std (0.5, 0.25, 2): all exact in binary.
  Tensor x = from_vector(std::vector<float>{1, 0, 0.25f, 0.75f, 4, -2, 0.5f, 0.75f, 1, 0, 0, 1}, {2, 3, 1, 2});
  Tensor y = normalize(x, {0.5, 0.25, 0}, {0.5, 0.25, 2});
  REQUIRE(y.sizes() == x.sizes());
  REQUIRE(y.to_vector<float>() == std::vector<float>{1, -1, 0, 2, 2, -1, 0, 0.5f, 3, -1, 0, 0.5f});

  // ImageNet statistics, float64: (0.6−0.485)/0.229, (0.5−0.456)/0.224, (0.4−0.406)/0.225.
  Tensor p = from_vector(std::vector<double>{0.6, 0.5, 0.4}, {1, 3, 1, 1}, kFloat64);
  const auto q = normalize(p, kImageNetMean, kImageNetStd).to_vector<double>();
  REQUIRE(q[0] == Approx(0.5021834061135371).epsilon(1e-12));
  REQUIRE(q[1] == Approx(0.1964285714285714).epsilon(1e-12));
  REQUIRE(q[2] == Approx(-0.0266666666666667).epsilon(1e-12));

  REQUIRE_THROWS_WITH(normalize(x, {0.5, 0.5}, {1, 1}),
                      Catch::Contains("normalize: input [2,3,1,2] has 3 channels but mean has 2 values"));
  REQUIRE_THROWS_WITH(normalize(x, {0, 0, 0}, {1, 0, 1}), Catch::Contains("normalize: std[1] must be > 0"));
  REQUIRE_THROWS_WITH(normalize(zeros({3, 4, 4}), {0, 0, 0}, {1, 1, 1}),
                      Catch::Contains("normalize: expected a batch [B, C, H, W], got [3,4,4]"));
  REQUIRE_THROWS_WITH(normalize(zeros({1, 1, 1, 1}, kInt64), {0}, {1}), Catch::Contains("normalize"));
}

TEST_CASE("crop cuts windows out of the zero-padded image", "[data]") {
  // One 3×3 image 1..9 four times, padding 1, windows at (0,0), (2,2), (1,1), (0,2).
  Tensor x = empty({4, 1, 3, 3});
  for (std::int64_t b = 0; b < 4; ++b)
    for (std::int64_t k = 0; k < 9; ++k) x.data<float>()[b * 9 + k] = static_cast<float>(k + 1);
  Tensor y = crop(x, {0, 2, 1, 0}, {0, 2, 1, 2}, 3, 1);
  REQUIRE(y.sizes() == Shape{4, 1, 3, 3});
  REQUIRE(sample(y, 0) == std::vector<float>{0, 0, 0, 0, 1, 2, 0, 4, 5});
  REQUIRE(sample(y, 1) == std::vector<float>{5, 6, 0, 8, 9, 0, 0, 0, 0});
  REQUIRE(sample(y, 2) == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  REQUIRE(sample(y, 3) == std::vector<float>{0, 0, 0, 2, 3, 0, 5, 6, 0});

  // Every offset of a non-square, two-channel int64 batch, padding 2, against the reference;
  // (0, 0) is entirely padding.
  Tensor z = iota({2, 2, 2, 3}, kInt64);
  for (std::int64_t t = 0; t <= 2 + 4 - 2; ++t)
    for (std::int64_t l = 0; l <= 3 + 4 - 2; ++l) {
      Tensor w = crop(z, {t, 1}, {l, 0}, 2, 2);
      REQUIRE(w.dtype() == kInt64);
      REQUIRE(sample(w, 0) == window(z, 0, t, l, 2, 2));
      REQUIRE(sample(w, 1) == window(z, 1, 1, 0, 2, 2));
    }
  REQUIRE(sample(crop(z, {0, 0}, {0, 0}, 2, 2), 0) == std::vector<float>(8, 0.0f));

  REQUIRE_THROWS_WITH(crop(x, {3, 0, 0, 0}, {0, 0, 0, 0}, 3, 1),
                      Catch::Contains("crop: input [4,1,3,3] padded by 1: window 3x3 at (3, 0) of sample 0 does not fit"));
  REQUIRE_THROWS_WITH(crop(x, {0}, {0}, 3, 1), Catch::Contains("needs 4 offsets, got 1 tops"));
  REQUIRE_THROWS_WITH(crop(x, {0, 0, 0, 0}, {0, 0, 0, 0}, 6, 1), Catch::Contains("cannot give a 6x6 window"));
}

TEST_CASE("random_crop draws its offsets from the generator, per sample", "[data]") {
  Tensor x = iota({6, 2, 8, 8});
  Generator gen(11);
  Tensor y = random_crop(x, 8, 4, gen);
  REQUIRE(y.sizes() == Shape{6, 2, 8, 8});

  Generator ref(11);
  const auto tops = randint(0, 9, {6}, &ref).to_vector<std::int64_t>();
  const auto lefts = randint(0, 9, {6}, &ref).to_vector<std::int64_t>();
  // Pinned, from an independent mt19937_64 (tests/tools/data_transform_pins.py).
  REQUIRE(tops == std::vector<std::int64_t>{3, 4, 2, 1, 1, 5});
  REQUIRE(lefts == std::vector<std::int64_t>{1, 8, 6, 3, 4, 5});
  for (std::int64_t b = 0; b < 6; ++b) {
    // Recover the offset from the output alone: exactly one window of the padded image matches.
    std::vector<std::pair<std::int64_t, std::int64_t>> hits;
    for (std::int64_t t = 0; t <= 8; ++t)
      for (std::int64_t l = 0; l <= 8; ++l)
        if (sample(y, b) == window(x, b, t, l, 8, 4)) hits.emplace_back(t, l);
    REQUIRE(hits.size() == 1);
    REQUIRE(hits[0] == std::make_pair(tops[static_cast<std::size_t>(b)], lefts[static_cast<std::size_t>(b)]));
  }
  // Same seed, same crops; the generator moved on, so a second call differs.
  Generator again(11);
  REQUIRE(random_crop(x, 8, 4, again).to_vector<float>() == y.to_vector<float>());
  REQUIRE(random_crop(x, 8, 4, again).to_vector<float>() != y.to_vector<float>());
  REQUIRE_THROWS_WITH(random_crop(iota({1, 1, 3, 3}), 4, 0, gen),
                      Catch::Contains("random_crop: input [1,1,3,3] padded by 0 cannot give a 4x4 window"));
}

TEST_CASE("hflip mirrors the flagged samples along W", "[data]") {
  Tensor x = iota({3, 2, 2, 3});
  Tensor y = hflip(x, {true, false, true});
  REQUIRE(sample(y, 0) == std::vector<float>{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10});
  REQUIRE(sample(y, 1) == sample(x, 1));
  REQUIRE(sample(y, 2) == std::vector<float>{27, 26, 25, 30, 29, 28, 33, 32, 31, 36, 35, 34});
  REQUIRE(x.to_vector<float>()[0] == 1.0f);  // input untouched
  REQUIRE_THROWS_WITH(hflip(x, {true}), Catch::Contains("hflip: input [3,2,2,3] needs 3 flags, got 1"));

  // random_hflip: flip[b] = uniform() < p, drawn in sample order.
  Tensor many = iota({9, 1, 1, 2});
  Generator gen(5), ref(5);
  Tensor r = random_hflip(many, gen);
  std::vector<bool> flags;
  for (int b = 0; b < 9; ++b) flags.push_back(ref.uniform() < 0.5);
  // Pinned (tests/tools/data_transform_pins.py).
  REQUIRE(flags == std::vector<bool>{false, true, true, false, true, true, true, false, false});
  for (std::int64_t b = 0; b < 9; ++b) {
    const float a = static_cast<float>(2 * b + 1), c = static_cast<float>(2 * b + 2);
    REQUIRE(sample(r, b) == (flags[static_cast<std::size_t>(b)] ? std::vector<float>{c, a} : std::vector<float>{a, c}));
  }
  Generator g2(5);
  REQUIRE(random_hflip(many, g2).to_vector<float>() == r.to_vector<float>());
  REQUIRE(random_hflip(many, gen, 0.0).to_vector<float>() == many.to_vector<float>());
  REQUIRE(random_hflip(many, gen, 1.0).to_vector<float>() == hflip(many, std::vector<bool>(9, true)).to_vector<float>());

  // About half of 2000 samples flip at p = 0.5 (binomial sd ≈ 22).
  Tensor pairs = iota({2000, 1, 1, 2});
  const auto v = random_hflip(pairs, gen).to_vector<float>();
  int flipped = 0;
  for (std::size_t b = 0; b < 2000; ++b) flipped += v[2 * b] > v[2 * b + 1];
  REQUIRE(flipped > 900);
  REQUIRE(flipped < 1100);
  REQUIRE_THROWS_WITH(random_hflip(many, gen, 1.5), Catch::Contains("random_hflip: p must be in [0, 1]"));
}

TEST_CASE("compose applies the steps in order from one generator", "[data]") {
  Tensor x = iota({4, 3, 6, 6});
  Batch batch{x, zeros({4}, kInt64), arange(4)};
  BatchTransform t = compose({RandomCrop{6, 2}, RandomHFlip{}, Normalize{kImageNetMean, kImageNetStd}});
  Generator gen(123);
  t(batch, gen);

  Generator ref(123);
  Tensor expect = normalize(random_hflip(random_crop(x, 6, 2, ref), ref), kImageNetMean, kImageNetStd);
  REQUIRE(batch.inputs.to_vector<float>() == expect.to_vector<float>());
  REQUIRE(batch.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3});
  REQUIRE_THROWS_WITH(compose({RandomHFlip{}, ImageTransform()}), Catch::Contains("compose: step 1 is empty"));
}
