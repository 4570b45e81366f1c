// The flag checks the CIFAR-10 example programs share (namespace retort::examples), made after
// Flags::parse and before any work, in this order; each failure is a usage error through the
// program's usage function, with exactly this message:
//
//   --batch B >= 2 (only when batch_pairs)   "--batch B is too small (at least 2)"
//   --threads T <= kMaxThreads               "--threads T is more than 1024"
//   --batch B <= S, the train split:         "--batch B is larger than the train split (S images)"
//     S = --train-limit when > 0, else kCifar10TrainSize (50,000)
//   --device parses                          parse_device's message
//   --load-teacher: an existing file         Flags::input_file (an empty path is skipped)
//   --out: a writable directory              Flags::output_dir
//   --csv: a writable file                   Flags::output_file (an empty path is skipped)
//
//   check_run_flags(f, {.batch = a.batch, .threads = a.threads, .train_limit = a.train_limit,
//                       .device = a.device, .out = a.out, .csv = a.csv});
//
// A program's own checks go before this call when they only read flags, and after it when they
// touch files (e.g. --teacher-ckpt), so that nothing is created before a bad flag is reported.
#pragma once
#include <cstdint>
#include <string>

#include "common/flags.h"

namespace retort::examples {

struct RunFlags {
  std::int64_t batch = 0;
  std::int64_t threads = 0;
  std::int64_t train_limit = -1;  // <= 0: the whole CIFAR-10 train split
  std::string device;
  std::string load_teacher;        // empty: none given
  std::string out;
  std::string csv;                 // the resolved path (a default already applied), or empty
  bool batch_pairs = true;         // the batch must hold at least 2 samples
};

void check_run_flags(const Flags& f, const RunFlags& r);

}  // namespace retort::examples
