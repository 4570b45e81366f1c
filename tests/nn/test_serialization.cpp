// safetensors checkpoints: round trips, the header layout, and every kind of damage or mismatch
// failing with a precise message while leaving the model untouched.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "autograd/ops/shape.h"
#include "nn/models.h"
#include "nn/nn.h"
#include "nn/serialization.h"
#include "support/helpers.h"
#include "support/temp_dir.h"
#include "tensor/atomic_file.h"
#include "tensor/random.h"

using namespace retort;
using retort::testing::TempDir;
using namespace retort::nn;
namespace fs = std::filesystem;

namespace {


std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file with the given header text and data bytes (8-byte length prefix added).
std::string make_file(const std::string& header, const std::string& data) {
  std::uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

// Snapshot of every state tensor, to prove a failed load changed nothing.
std::vector<std::vector<double>> snapshot(const Module& m) {
  std::vector<std::vector<double>> out;
  for (auto& [n, t] : m.state_dict()) out.push_back(t.to_vector<double>());
  return out;
}

}  // namespace

TEST_CASE("save/load round trip of a module, with metadata and exact header layout") {
  TempDir tmp("nn_ser");
  manual_seed(1);
  auto a = std::make_shared<StudentNet>();
  std::string path = tmp.file("student.safetensors");
  save_safetensors(*a, path, {{"epoch", "3"}});
  REQUIRE_FALSE(fs::exists(path + ".tmp"));

  std::string bytes = read_bytes(path);
  std::uint64_t hlen;
  std::memcpy(&hlen, bytes.data(), 8);
  REQUIRE(hlen % 8 == 0);
  REQUIRE(bytes.size() == 8 + hlen + 267738 * 4);
  auto header = nlohmann::json::parse(bytes.substr(8, hlen));
  REQUIRE(header["__metadata__"]["epoch"] == "3");
  REQUIRE(header["features.0.weight"]["dtype"] == "F32");
  REQUIRE(header["features.0.weight"]["shape"] == nlohmann::json::array({16, 3, 3, 3}));
  REQUIRE(header["features.0.weight"]["data_offsets"] == nlohmann::json::array({0, 1728}));

  Metadata meta;
  TensorMap loaded = load_safetensors(path, &meta);
  REQUIRE(meta.at("epoch") == "3");
  REQUIRE(loaded.size() == 8);
  manual_seed(2);
  auto b = std::make_shared<StudentNet>();
  REQUIRE(snapshot(*a) != snapshot(*b));
  load_safetensors(*b, path);
  REQUIRE(snapshot(*a) == snapshot(*b));

  // Overwriting an existing checkpoint replaces it completely.
  save_safetensors(*b, path);
  REQUIRE(load_safetensors(path).size() == 8);
}

TEST_CASE("all dtypes, 0-d and empty tensors round trip; BatchNorm counter is I64") {
  TempDir tmp("nn_ser");
  TensorMap m;
  m["f64"] = testing::random_tensor({2, 3}, kFloat64, 1);
  m["i64"] = from_vector(std::vector<std::int64_t>{-5, 0, 1LL << 40}, {3});
  m["scalar"] = full({}, 2.5, kFloat32);
  m["empty"] = zeros({0, 4});
  m["view"] = transpose(testing::random_tensor({3, 2}, kFloat32, 2), 0, 1);  // saved packed
  std::string path = tmp.file("mixed.safetensors");
  save_safetensors(m, path);
  TensorMap r = load_safetensors(path);
  REQUIRE(r.size() == m.size());
  for (auto& [k, t] : m) {
    INFO(k);
    REQUIRE(r.at(k).dtype() == t.dtype());
    REQUIRE(r.at(k).sizes() == t.sizes());
    REQUIRE(r.at(k).to_vector<double>() == t.to_vector<double>());
  }
  auto bn = make_sequential(std::make_shared<BatchNorm2d>(2));
  bn->train();
  (*bn)(testing::random_tensor({2, 2, 3, 3}, kFloat32, 3));
  save_safetensors(*bn, tmp.file("bn.safetensors"));
  TensorMap s = load_safetensors(tmp.file("bn.safetensors"));
  REQUIRE(s.at("0.num_batches_tracked").dtype() == kInt64);
  REQUIRE(s.at("0.num_batches_tracked").item<std::int64_t>() == 1);
  auto bn2 = make_sequential(std::make_shared<BatchNorm2d>(2));
  bn2->to(kFloat64);  // float32 file into a float64 model: converted
  bn2->load_state_dict(s);
  REQUIRE(bn2->at<BatchNorm2d>(0)->running_mean.to_vector<double>() ==
          bn->at<BatchNorm2d>(0)->running_mean.to_vector<double>());
}

TEST_CASE("damaged files fail with the file, the tensor and the problem named") {
  TempDir tmp("nn_ser");
  auto net = std::make_shared<StudentNet>();
  std::string good = tmp.file("good.safetensors");
  save_safetensors(*net, good);
  std::string bytes = read_bytes(good);
  auto before = snapshot(*net);
  auto expect_fail = [&](const std::string& name, const std::string& content,
                         const std::vector<std::string>& needles) {
    std::string p = tmp.file(name);
    write_bytes(p, content);
    std::string msg = error_of([&] { load_safetensors(p); });
    INFO(msg);
    REQUIRE_THAT(msg, Catch::Contains("load_safetensors: '" + p + "'"));
    for (const auto& n : needles) REQUIRE_THAT(msg, Catch::Contains(n));
    REQUIRE_THROWS(load_safetensors(*net, p));
    REQUIRE(snapshot(*net) == before);
  };
  std::uint64_t hlen;
  std::memcpy(&hlen, bytes.data(), 8);
  std::string header = bytes.substr(8, hlen), data = bytes.substr(8 + hlen);

  expect_fail("short", bytes.substr(0, 5), {"too short"});
  expect_fail("truncated", bytes.substr(0, bytes.size() - 10), {"classifier.3.bias", "truncated"});
  expect_fail("cut_header", bytes.substr(0, 8 + hlen / 2), {"header length"});
  std::string garbled = header;
  garbled[0] = '[';
  expect_fail("garbled", make_file(garbled, data), {"not valid JSON"});
  expect_fail("array", make_file("[1,2,3]", ""), {"not a JSON object"});
  expect_fail(
      "dtype",
      make_file(R"({"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0')),
      {"tensor 'w'", "unsupported dtype \"F16\""});
  expect_fail(
      "size",
      make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')),
      {"tensor 'w'", "needs 12"});
  expect_fail("overlap",
              make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                        std::string(12, '\0')),
              {"tensor 'b'", "overlap tensor 'a'"});
  expect_fail(
      "gap",
      make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0')),
      {"tensor 'a'", "belong to no tensor"});
  expect_fail(
      "trailing",
      make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(8, '\0')),
      {"trailing"});
  expect_fail(
      "negative",
      make_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, '\0')),
      {"tensor 'a'", "negative"});
  expect_fail("missing_field",
              make_file(R"({"a":{"dtype":"F32","shape":[1]}})", std::string(4, '\0')),
              {"tensor 'a'", "data_offsets"});
  expect_fail(
      "outside",
      make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", std::string(4, '\0')),
      {"tensor 'a'", "outside the data section"});
  REQUIRE_THROWS_WITH(load_safetensors(tmp.file("does_not_exist")), Catch::Contains("cannot open"));
}

TEST_CASE("load_state_dict checks keys and shapes before copying anything") {
  auto net = std::make_shared<StudentNet>();
  auto before = snapshot(*net);
  TensorMap sd;
  for (auto& [k, t] : StudentNet().state_dict()) sd[k] = t;

  TensorMap missing = sd;
  missing.erase("features.0.bias");
  REQUIRE_THROWS_WITH(
      net->load_state_dict(missing),
      Catch::Contains("missing keys: features.0.bias") && Catch::Contains("StudentNet"));
  REQUIRE(snapshot(*net) == before);

  TensorMap extra = sd;
  extra["extra.weight"] = zeros({1});
  REQUIRE_THROWS_WITH(net->load_state_dict(extra),
                      Catch::Contains("unexpected keys: extra.weight"));
  REQUIRE(snapshot(*net) == before);

  // A 28×28 net's classifier does not fit a 32×32 one: shape error, nothing copied (the
  // earlier features.* tensors match and would otherwise have been loaded first).
  TensorMap other;
  for (auto& [k, t] : StudentNet(3, 10, 28).state_dict()) other[k] = t;
  REQUIRE_THROWS_WITH(net->load_state_dict(other),
                      Catch::Contains("size mismatch for 'classifier.0.weight'") &&
                          Catch::Contains("[256,784]") && Catch::Contains("[256,1024]"));
  REQUIRE(snapshot(*net) == before);

  TensorMap wrong_type = sd;
  wrong_type["features.0.bias"] = zeros({16}, kInt64);
  REQUIRE_THROWS_WITH(net->load_state_dict(wrong_type), Catch::Contains("dtype mismatch"));
  REQUIRE(snapshot(*net) == before);

  // Non-strict: missing and unexpected keys are tolerated, shared keys loaded.
  extra.erase("features.0.bias");
  net->load_state_dict(extra, /*strict=*/false);
  auto after = snapshot(*net);
  REQUIRE(after[0] == sd.at("features.0.weight").to_vector<double>());
  REQUIRE(after[1] == before[1]);
}

TEST_CASE("saving to an unwritable place fails and leaves no file") {
  TempDir tmp("nn_ser");
  std::string path = tmp.file("no_such_dir/x.safetensors");
  REQUIRE_THROWS_WITH(save_safetensors(StudentNet(), path), Catch::Contains("cannot open"));
  REQUIRE_FALSE(fs::exists(path));
  TensorMap bad;
  bad["__metadata__"] = zeros({1});
  REQUIRE_THROWS_WITH(save_safetensors(bad, tmp.file("y")), Catch::Contains("invalid tensor name"));
}

// Regression tests for hostile files: each of these crashed, overflowed or misbehaved before the
// reader treated every header number as untrusted (docs/reliability.md, "Bad input and faults").
namespace {

// Writes content to tmp/name, requires load_safetensors to refuse it naming the file; returns the
// message.
std::string refusal(const TempDir& tmp, const std::string& name, const std::string& content) {
  std::string p = tmp.file(name);
  write_bytes(p, content);
  std::string msg = error_of([&] { load_safetensors(p); });
  INFO(msg);
  REQUIRE_THAT(msg, Catch::Contains("load_safetensors: '" + p + "'"));
  return msg;
}

}  // namespace

TEST_CASE("a deeply nested header is refused before parsing and without recursion") {
  TempDir tmp("nn_ser");
  // A shape nested a million levels deep: printing it in the error (json::dump) used to recurse
  // until the stack overflowed (SIGSEGV). Now the nesting is measured before parsing.
  const int deep = 1'000'000;
  std::string nested = R"({"a":{"dtype":"F32","shape":)" + std::string(deep, '[') + std::string(deep, ']') +
                       R"(,"data_offsets":[0,0]}})";
  REQUIRE_THAT(refusal(tmp, "deep", make_file(nested, "")), Catch::Contains("nests arrays/objects more than 64"));
  std::string objects;
  for (int i = 0; i < 100; ++i) objects += "{\"k\":";
  objects += "1" + std::string(100, '}');
  REQUIRE_THAT(refusal(tmp, "deep_objects", make_file(R"({"__metadata__":)" + objects + "}", "")),
               Catch::Contains("more than 64"));
  // Brackets inside strings are not nesting.
  std::string p = tmp.file("brackets_in_strings");
  write_bytes(p, make_file(R"({"__metadata__":{"k":"[[[[\"[[[)" + std::string(1000, '[') +
                               R"("},"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})",
                           ""));
  Metadata meta;
  REQUIRE(load_safetensors(p, &meta).at("w").numel() == 0);
  REQUIRE(meta.at("k").size() == 1008);  // an escaped quote among the brackets
}

TEST_CASE("zero-sized dimensions cannot hide an absurd shape; sizes are overflow-checked") {
  TempDir tmp("nn_ser");
  // A zero size used to hide the other sizes from the size check, so [0, 2^62, 4] passed and its
  // strides overflowed; sizes of 2^63 and more became negative.
  REQUIRE_THAT(refusal(tmp, "zero_dim", make_file(R"({"a":{"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}})", "")),
               Catch::Contains("tensor 'a'") && Catch::Contains("too large"));
  REQUIRE_THAT(refusal(tmp, "zero_dim_f64", make_file(R"({"a":{"dtype":"F64","shape":[1152921504606846976,0],"data_offsets":[0,0]}})", "")),
               Catch::Contains("too large"));
  REQUIRE_THAT(refusal(tmp, "above_int64", make_file(R"({"a":{"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]}})", "")),
               Catch::Contains("too large"));
  REQUIRE_THAT(refusal(tmp, "product", make_file(R"({"a":{"dtype":"I64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", std::string(8, '\0'))),
               Catch::Contains("too large"));
  std::string rank = "[1";
  for (int i = 0; i < 64; ++i) rank += ",1";
  REQUIRE_THAT(refusal(tmp, "rank", make_file(R"({"a":{"dtype":"F32","shape":)" + rank + R"(],"data_offsets":[0,4]}})", std::string(4, '\0'))),
               Catch::Contains("65 dimensions"));
  REQUIRE_THAT(refusal(tmp, "huge_len", std::string(8, '\xff') + "{}"), Catch::Contains("header length"));
  REQUIRE_THAT(refusal(tmp, "end_past", make_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}})", "xxxx")),
               Catch::Contains("outside the data section"));
  // Large but legal zero-sized shapes still load.
  std::string p = tmp.file("zero_ok");
  write_bytes(p, make_file(R"({"a":{"dtype":"F32","shape":[0,1048576,1048576],"data_offsets":[0,0]}})", ""));
  Tensor t = load_safetensors(p).at("a");
  REQUIRE(t.sizes() == Shape{0, 1048576, 1048576});
  REQUIRE(t.numel() == 0);
}

TEST_CASE("error messages quote header values briefly") {
  TempDir tmp("nn_ser");
  std::string msg = refusal(tmp, "long_name", make_file("{\"" + std::string(5000, 'n') +
                                                           R"(":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})",
                                                       "xx"));
  REQUIRE_THAT(msg, Catch::Contains("(5000 bytes)") && Catch::Contains("unsupported dtype"));
  REQUIRE(msg.size() < 400);
  std::string shape = "[\"x\"";
  for (int i = 0; i < 100000; ++i) shape += ",1";
  msg = refusal(tmp, "long_shape", make_file(R"({"a":{"dtype":"F32","shape":)" + shape + R"(],"data_offsets":[0,4]}})", "xxxx"));
  REQUIRE_THAT(msg, Catch::Contains("100001 dimensions"));
  REQUIRE(msg.size() < 400);
  msg = refusal(tmp, "nested_shape", make_file(R"({"a":{"dtype":"F32","shape":[[1,[2]],3],"data_offsets":[0,4]}})", "xxxx"));
  REQUIRE_THAT(msg, Catch::Contains("[[...],3]") && Catch::Contains("non-integer"));
}

TEST_CASE("a directory or a device is refused with its name") {
  TempDir tmp("nn_ser");
  // A directory used to be read as a file of "size" 2^63 − 1 and end in std::bad_alloc.
  REQUIRE_THROWS_WITH(load_safetensors(tmp.str()),
                      Catch::Contains("load_safetensors: '" + tmp.str() + "'") && Catch::Contains("is a directory"));
  auto net = std::make_shared<StudentNet>();
  REQUIRE_THROWS_WITH(load_safetensors(*net, tmp.str()), Catch::Contains("is a directory"));
  REQUIRE_THROWS_WITH(load_safetensors("/dev/zero"),
                      Catch::Contains("'/dev/zero'") && Catch::Contains("not a regular file"));
  REQUIRE_THROWS_WITH(load_safetensors(tmp.file("missing")),
                      Catch::Contains("cannot open") && Catch::Contains("No such file"));
}

TEST_CASE("a failed load leaves the caller's metadata untouched") {
  TempDir tmp("nn_ser");
  std::string p = tmp.file("meta");
  write_bytes(p, make_file(R"({"__metadata__":{"epoch":"9"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})",
                           std::string(4, '\0')));
  Metadata meta{{"epoch", "1"}};
  REQUIRE_THROWS(load_safetensors(p, &meta));
  REQUIRE(meta == Metadata{{"epoch", "1"}});
}

TEST_CASE("saving on a full disk fails and keeps the old checkpoint with no temporary left") {
  TempDir tmp("nn_ser");
  struct Guard {
    ~Guard() { retort::testing::inject_write_fault(-1); }
  } guard;
  manual_seed(3);
  auto a = std::make_shared<StudentNet>();
  std::string path = tmp.file("ckpt.safetensors");
  save_safetensors(*a, path);
  auto before = read_bytes(path);
  auto b = std::make_shared<StudentNet>();
  retort::testing::inject_write_fault(500000);  // ENOSPC half way through the 1 MB of weights
  REQUIRE_THROWS_WITH(save_safetensors(*b, path),
                      Catch::Contains("save_safetensors: '" + path + "'") && Catch::Contains("No space left on device"));
  retort::testing::inject_write_fault(-1);
  REQUIRE(read_bytes(path) == before);
  for (const auto& e : fs::directory_iterator(tmp.path)) REQUIRE(e.path().filename() == "ckpt.safetensors");
  // Saving over a directory is refused before anything is written.
  fs::create_directories(tmp.path / "dir.safetensors");
  REQUIRE_THROWS_WITH(save_safetensors(*b, tmp.file("dir.safetensors")), Catch::Contains("not a regular file"));
}
