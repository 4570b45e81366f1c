// Fashion-MNIST (Zalando): 28×28 grey images of clothing in 10 classes, 60,000 for training and
// 10,000 for testing, stored as four gzip-compressed IDX files (data/idx.h) in one directory:
//   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
//   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz
#pragma once
#include <cstdint>
#include <string>

#include "tensor/tensor.h"

namespace retort::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr std::int64_t kFashionMnistClasses = 10;

enum class Split { Train, Test };

struct FashionMnist {
  Tensor images;  // [N, 1, 28, 28] float32, pixel/255 ∈ [0, 1]
  Tensor labels;  // [N] int64 in 0..9
};

// Loads a split from dir, the first `limit` examples only when limit ≥ 0. Throws retort::Error
// naming the file when one is missing, has the wrong magic number (2051 images, 2049 labels),
// images that are not 28×28, a count differing between images and labels, a label ≥ 10, or is
// truncated.
FashionMnist load_fashion_mnist(Split split, const std::string& dir = kFashionMnistDir,
                                std::int64_t limit = -1);

// "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
// "Ankle boot" for labels 0..9.
const char* fashion_mnist_class_name(std::int64_t label);

}  // namespace retort::data
