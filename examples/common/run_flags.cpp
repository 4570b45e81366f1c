// One copy of the checks that every CIFAR-10 example repeated after parsing. The messages are
// grepped by examples/check_flags.sh and the smoke scripts, so they must not change. The device
// check lives here rather than in example_flags because parse_device belongs to the kd_experiment
// library (it asks the tensor backend whether a GPU is usable).
#include "common/run_flags.h"

#include <exception>

#include "common/kd_experiment.h"

namespace retort::examples {

void check_run_flags(const Flags& f, const RunFlags& r) {
  if (r.batch_pairs) f.check(r.batch >= 2, "--batch " + std::to_string(r.batch) + " is too small (at least 2)");
  f.check(r.threads <= kMaxThreads,
          "--threads " + std::to_string(r.threads) + " is more than " + std::to_string(kMaxThreads));
  const std::int64_t train_size = r.train_limit > 0 ? r.train_limit : kCifar10TrainSize;
  f.check(r.batch <= train_size, "--batch " + std::to_string(r.batch) + " is larger than the train split (" +
                                     std::to_string(train_size) + " images)");
  // The usage function exits, so it is called outside the handler rather than from inside it.
  bool device_ok = true;
  std::string device_error;
  try {
    parse_device(r.device);
  } catch (const std::exception& e) {
    device_ok = false;
    device_error = e.what();
  }
  f.check(device_ok, device_error);
  f.input_file("--load-teacher", r.load_teacher);
  f.output_dir("--out", r.out);
  f.output_file("--csv", r.csv);
}

}  // namespace retort::examples
