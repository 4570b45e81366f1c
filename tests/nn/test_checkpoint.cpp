// Training checkpoints (nn/checkpoint.h): round trip of tensors and values; the format, version
// and checksum checks, each naming the file and what differs; a kill in the middle of a save
// (a partial temp file beside the checkpoint) leaves the previous checkpoint loadable; the
// optimiser's and the generator's states continue exactly where they were saved.
#include <catch2/catch.hpp>

#include <fstream>

#include "nn/checkpoint.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "support/helpers.h"
#include "support/temp_dir.h"
#include "tensor/random.h"

using namespace retort;
using retort::testing::random_tensor;

namespace {

nn::Checkpoint sample() {
  nn::Checkpoint c;
  c.tensors["net.w"] = random_tensor({3, 4}, kFloat32, 1);
  c.tensors["optim.state.0.0.0"] = random_tensor({5}, kFloat64, 2);
  c.tensors["steps"] = from_vector(std::vector<std::int64_t>{7, 8}, {2});
  c.values["epoch"] = "3";
  c.values["rng"] = default_generator().state();
  return c;
}

void flip_byte(const std::string& path, std::streamoff from_end) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-from_end, std::ios::end);
  char ch = 0;
  f.read(&ch, 1);
  f.seekp(-from_end, std::ios::end);
  ch = static_cast<char>(ch ^ 0x10);
  f.write(&ch, 1);
}

}  // namespace

TEST_CASE("checkpoint: round trip, and every check names the file and the difference", "[nn]") {
  testing::TempDir dir("ckpt");
  const std::string p = dir.file("run.ckpt");
  nn::Checkpoint c = sample();
  nn::save_checkpoint(c, p);
  nn::Checkpoint back = nn::load_checkpoint(p);
  REQUIRE(back.values == c.values);  // the reserved keys are removed again
  REQUIRE(back.tensors.size() == 3);
  for (const auto& [k, v] : c.tensors) REQUIRE_ALLCLOSE(back.tensors.at(k), v, 0.0, 0.0);

  flip_byte(p, 3);  // inside the last tensor's bytes
  REQUIRE_THROWS_WITH(nn::load_checkpoint(p), Catch::Contains("run.ckpt") &&
                                                  Catch::Contains("checksum mismatch") &&
                                                  Catch::Contains("damaged"));
  nn::save_safetensors(c.tensors, p, {{"epoch", "3"}});  // a plain safetensors file
  REQUIRE_THROWS_WITH(nn::load_checkpoint(p), Catch::Contains("not a training checkpoint"));
  nn::save_safetensors(c.tensors, p, {{"format", nn::kCheckpointFormat}, {"version", "9"}});
  REQUIRE_THROWS_WITH(nn::load_checkpoint(p), Catch::Contains("version '9'"));
  // An edited value is caught as surely as a flipped bit.
  nn::Metadata meta = c.values;
  meta["format"] = nn::kCheckpointFormat;
  meta["version"] = "1";
  meta["checksum"] = nn::checkpoint_checksum(c.tensors, c.values);
  meta["epoch"] = "4";
  nn::save_safetensors(c.tensors, p, meta);
  REQUIRE_THROWS_WITH(nn::load_checkpoint(p), Catch::Contains("checksum mismatch"));
  c.values["checksum"] = "x";
  REQUIRE_THROWS_WITH(nn::save_checkpoint(c, p), Catch::Contains("reserved"));
}

TEST_CASE("checkpoint: a save killed midway leaves the previous checkpoint usable", "[nn]") {
  testing::TempDir dir("ckpt_kill");
  const std::string p = dir.file("run.ckpt");
  nn::Checkpoint first = sample();
  nn::save_checkpoint(first, p);
  // What a kill during the next save leaves: a partial temp file beside the checkpoint.
  nn::Checkpoint second = sample();
  second.values["epoch"] = "4";
  nn::save_checkpoint(second, dir.file("full.ckpt"));
  {
    std::ifstream in(dir.file("full.ckpt"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(p + ".retort-tmp.999999.0", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  REQUIRE(nn::load_checkpoint(p).values.at("epoch") == "3");
  // A checkpoint cut short under its final name is refused, never half-read.
  std::filesystem::copy_file(p + ".retort-tmp.999999.0", p, std::filesystem::copy_options::overwrite_existing);
  REQUIRE_THROWS_WITH(nn::load_checkpoint(p), Catch::Contains("run.ckpt"));
}

TEST_CASE("optimiser state: a restored Adam continues bit-identically; mismatches refused", "[optim]") {
  auto make = [] { return random_tensor({4, 3}, kFloat64, 5).set_requires_grad(true); };
  Tensor a = make(), b = make();
  optim::Adam oa({a}, {.lr = 0.1, .weight_decay = 0.01});
  auto grad = [](int s) { return random_tensor({4, 3}, kFloat64, 100 + s); };
  for (int s = 0; s < 3; ++s) {
    a.set_grad(grad(s));
    oa.step();
  }
  // b takes a's values and Adam state, then both take the same further steps.
  b.copy_(a);
  optim::Adam ob({b}, {.lr = 0.5});
  ob.load_state_dict(oa.state_dict());
  REQUIRE(ob.lr() == 0.1);
  REQUIRE(ob.step_count() == 3);
  for (int s = 3; s < 6; ++s) {
    a.set_grad(grad(s));
    b.set_grad(grad(s));
    oa.step();
    ob.step();
  }
  REQUIRE_ALLCLOSE(b, a, 0.0, 0.0);
  // Another optimiser, another shape, a missing tensor: refused, the target unchanged.
  Tensor c = random_tensor({2, 2}, kFloat64, 6).set_requires_grad(true);
  optim::Adam oc({c}, {.lr = 0.1});
  REQUIRE_THROWS_WITH(oc.load_state_dict(oa.state_dict()),
                      Catch::Contains("Adam.load_state_dict") && Catch::Contains("[2,2]"));
  REQUIRE(oc.step_count() == 0);
  optim::SGD sgd({c}, {.lr = 0.1});
  REQUIRE_THROWS_WITH(sgd.load_state_dict(oa.state_dict()), Catch::Contains("of a Adam optimiser"));
  optim::OptimizerState broken = oa.state_dict();
  broken.tensors.clear();
  REQUIRE_THROWS_WITH(ob.load_state_dict(broken), Catch::Contains("missing tensor 'state.0.0.0'"));
  broken = oa.state_dict();
  broken.values["steps"] = "-1";
  REQUIRE_THROWS_WITH(ob.load_state_dict(broken), Catch::Contains("'steps'"));
}

TEST_CASE("generator state: a restored generator continues the same stream", "[random]") {
  Generator g(11);
  for (int i = 0; i < 1000; ++i) g.uniform();
  const std::string s = g.state();
  Generator h(99);
  h.set_state(s);
  for (int i = 0; i < 100; ++i) REQUIRE(h.below(1000003) == g.below(1000003));
  REQUIRE_THROWS_WITH(h.set_state("12 34"), Catch::Contains("not a generator state"));
  REQUIRE_THROWS_WITH(h.set_state(s + " 5"), Catch::Contains("not a generator state"));
  REQUIRE(h.below(10) == g.below(10));  // a refused state leaves the generator unchanged
}
