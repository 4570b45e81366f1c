// CIFAR-100 reader (see cifar100.h): the file names, record size and label ranges of the release;
// the reading and checking is data/cifar_binary.cpp's, shared with CIFAR-10.
#include "data/cifar100.h"

#include "tensor/error.h"

namespace retort::data {

std::vector<std::string> cifar100_files(Split split) {
  if (split == Split::Test) return {"test.bin"};
  return {"train.bin"};
}

namespace {

// Two label bytes per record, coarse first; one file per split.
CifarLayout layout(Split split, Cifar100Labels labels) {
  const bool train = split == Split::Train;
  return CifarLayout{"cifar100",
                     "scripts/get-cifar100.sh",
                     kCifar100TarballFolder,
                     cifar100_files(split),
                     train ? kCifar100TrainRecords : kCifar100TestRecords,
                     train ? "CIFAR-100's train.bin" : "CIFAR-100's test.bin",
                     {{"coarse label", kCifar100CoarseClasses}, {"fine label", kCifar100FineClasses}},
                     labels == Cifar100Labels::Coarse ? 0u : 1u};
}

}  // namespace

CifarBytes read_cifar100(Split split, const std::string& dir, Cifar100Labels labels, std::int64_t limit) {
  return read_cifar_binary(layout(split, labels), split, dir, limit);
}

CifarImages load_cifar100(Split split, const std::string& dir, Cifar100Labels labels, std::int64_t limit) {
  return cifar_to_tensors(read_cifar100(split, dir, labels, limit));
}

const std::array<const char*, kCifar100FineClasses>& cifar100_fine_class_names() {
  static constexpr std::array<const char*, kCifar100FineClasses> kNames = {
      "apple",      "aquarium_fish", "baby",         "bear",       "beaver",      "bed",        "bee",
      "beetle",     "bicycle",       "bottle",       "bowl",       "boy",         "bridge",     "bus",
      "butterfly",  "camel",         "can",          "castle",     "caterpillar", "cattle",     "chair",
      "chimpanzee", "clock",         "cloud",        "cockroach",  "couch",       "crab",       "crocodile",
      "cup",        "dinosaur",      "dolphin",      "elephant",   "flatfish",    "forest",     "fox",
      "girl",       "hamster",       "house",        "kangaroo",   "keyboard",    "lamp",       "lawn_mower",
      "leopard",    "lion",          "lizard",       "lobster",    "man",         "maple_tree", "motorcycle",
      "mountain",   "mouse",         "mushroom",     "oak_tree",   "orange",      "orchid",     "otter",
      "palm_tree",  "pear",          "pickup_truck", "pine_tree",  "plain",       "plate",      "poppy",
      "porcupine",  "possum",        "rabbit",       "raccoon",    "ray",         "road",       "rocket",
      "rose",       "sea",           "seal",         "shark",      "shrew",       "skunk",      "skyscraper",
      "snail",      "snake",         "spider",       "squirrel",   "streetcar",   "sunflower",  "sweet_pepper",
      "table",      "tank",          "telephone",    "television", "tiger",       "tractor",    "train",
      "trout",      "tulip",         "turtle",       "wardrobe",   "whale",       "willow_tree", "wolf",
      "woman",      "worm"};
  return kNames;
}

const std::array<const char*, kCifar100CoarseClasses>& cifar100_coarse_class_names() {
  static constexpr std::array<const char*, kCifar100CoarseClasses> kNames = {
      "aquatic_mammals",
      "fish",
      "flowers",
      "food_containers",
      "fruit_and_vegetables",
      "household_electrical_devices",
      "household_furniture",
      "insects",
      "large_carnivores",
      "large_man-made_outdoor_things",
      "large_natural_outdoor_scenes",
      "large_omnivores_and_herbivores",
      "medium_mammals",
      "non-insect_invertebrates",
      "people",
      "reptiles",
      "small_mammals",
      "trees",
      "vehicles_1",
      "vehicles_2"};
  return kNames;
}

const char* cifar100_class_name(std::int64_t label, Cifar100Labels labels) {
  if (labels == Cifar100Labels::Coarse) {
    RETORT_CHECK(label >= 0 && label < kCifar100CoarseClasses, "cifar100_class_name: coarse label ", label,
                 " is not in 0..19");
    return cifar100_coarse_class_names()[static_cast<std::size_t>(label)];
  }
  RETORT_CHECK(label >= 0 && label < kCifar100FineClasses, "cifar100_class_name: fine label ", label,
               " is not in 0..99");
  return cifar100_fine_class_names()[static_cast<std::size_t>(label)];
}

Cifar100Dataset::Cifar100Dataset(Split split, const std::string& dir, Cifar100Labels labels, std::int64_t limit)
    : CifarDataset(read_cifar100(split, dir, labels, limit)) {}

}  // namespace retort::data
