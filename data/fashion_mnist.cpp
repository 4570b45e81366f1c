// Fashion-MNIST loader (see fashion_mnist.h): reads both IDX files of a split, checks that they
// describe the same examples, and converts bytes to tensors the way torchvision's ToTensor does
// (float(pixel)/255), so statistics match the Python pipeline exactly.
#include "data/fashion_mnist.h"

#include "data/idx.h"
#include "tensor/error.h"

namespace retort::data {

namespace {

constexpr std::int64_t kSide = 28;

}  // namespace

FashionMnist load_fashion_mnist(Split split, const std::string& dir, std::int64_t limit) {
  const std::string prefix = dir + "/" + (split == Split::Train ? "train" : "t10k");
  const std::string images_path = prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = prefix + "-labels-idx1-ubyte.gz";

  IdxBytes labels = read_idx(labels_path, kIdxLabelsMagic, limit);
  IdxBytes images = read_idx(images_path, kIdxImagesMagic, limit);
  RETORT_CHECK(images.dims[1] == kSide && images.dims[2] == kSide, "fashion_mnist: ", images_path,
               ": images are ", images.dims[1], "x", images.dims[2], ", expected 28x28");
  RETORT_CHECK(images.dims[0] == labels.dims[0], "fashion_mnist: ", images_path, " holds ", images.dims[0],
               " images but ", labels_path, " holds ", labels.dims[0], " labels");

  const std::int64_t n = images.items;
  FashionMnist out{empty({n, 1, kSide, kSide}, kFloat32), empty({n}, kInt64)};
  float* px = out.images.data<float>();
  for (std::size_t i = 0; i < images.bytes.size(); ++i) px[i] = static_cast<float>(images.bytes[i]) / 255.0f;
  std::int64_t* lb = out.labels.data<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t l = labels.bytes[static_cast<std::size_t>(i)];
    RETORT_CHECK(l < kFashionMnistClasses, "fashion_mnist: ", labels_path, ": label ", l, " at index ", i,
                 ", expected 0..9");
    lb[i] = l;
  }
  return out;
}

const char* fashion_mnist_class_name(std::int64_t label) {
  static constexpr const char* kNames[kFashionMnistClasses] = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
  RETORT_CHECK(label >= 0 && label < kFashionMnistClasses, "fashion_mnist_class_name: label ", label,
               " is not in 0..9");
  return kNames[label];
}

}  // namespace retort::data
