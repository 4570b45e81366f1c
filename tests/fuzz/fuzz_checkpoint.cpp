// libFuzzer target: training checkpoints (nn/checkpoint.h) and the state readers behind a resume.
// The first input byte picks the path:
//   even: the rest is a checkpoint file for nn::load_checkpoint (format, version and checksum
//         checks over the safetensors checks);
//   odd:  the rest is a safetensors file whose tensors and metadata go straight to the state
//         readers, past the checksum (which random bytes almost never satisfy), so those are
//         fuzzed too: Optimizer::load_state_dict (keys "optim.*"), Generator::set_state ("rng")
//         and kd::Distiller::load_state (keys "distiller.*", the teacher-output cache).
// Every reader must return or throw retort::Error.
#include "fuzz_input.h"
#include "kd/distiller.h"
#include "nn/checkpoint.h"
#include "nn/linear.h"
#include "optim/adam.h"
#include "tensor/error.h"
#include "tensor/random.h"

using namespace retort;

namespace {

void feed_readers(const nn::Checkpoint& c) {
  auto student = std::make_shared<nn::Linear>(3, 2);
  auto teacher = std::make_shared<nn::Linear>(3, 2);
  optim::Adam opt(student->parameters(), {.lr = 0.1});
  optim::OptimizerState os;
  for (const auto& [k, v] : c.tensors)
    if (k.rfind("optim.", 0) == 0) os.tensors.emplace_back(k.substr(6), v);
  for (const auto& [k, v] : c.values)
    if (k.rfind("optim.", 0) == 0) os.values[k.substr(6)] = v;
  try {
    opt.load_state_dict(os);
  } catch (const Error&) {
  }
  if (auto it = c.values.find("rng"); it != c.values.end()) {
    Generator g;
    try {
      g.set_state(it->second);
    } catch (const Error&) {
    }
  }
  kd::Distiller d(student, teacher);
  try {
    d.load_state(c);
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::Scratch scratch;
  if (size < 1) return 0;
  const std::string path = scratch.write("input.ckpt", data + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      feed_readers(nn::load_checkpoint(path));
    } else {
      nn::Checkpoint c;
      c.tensors = nn::load_safetensors(path, &c.values);
      feed_readers(c);
    }
  } catch (const Error&) {
  }
  return 0;
}
