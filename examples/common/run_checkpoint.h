// Resumable training for the examples' runs (namespace retort::examples): train_run writes a
// checkpoint of its run to DIR/<run name>.ckpt (DIR/<run name>~k.ckpt for the k-th run of the
// same name in one program, k ≥ 2, so two runs never share a file) (nn/checkpoint.h: atomic, versioned, checksummed)
// at every epoch end and, with every_batches = N > 0, after every N-th batch of an epoch, and on
// a resumed program it continues from there bit-identically.
//
// A checkpoint holds: the network's and the objective's modules' state dicts (parameters and
// buffers: BatchNorm statistics, CRD memory banks), Adam's state (moments, step counts), the
// global generator's state (dropout), the objective's own generators (CRD's negative sampler),
// the position (run epoch, batches done in it, the loader's epoch number: its shuffle and
// augmentation are functions of (seed, epoch), so the batches skipped on resume are rebuilt
// exactly), the step counter (term schedules), the running loss/accuracy sums of the epoch in
// progress, the run's result so far and its per-epoch metric rows, and a fingerprint of the
// settings (run name, epochs, lr, batch, seed, data size, parameter count, terms). A completed
// run's checkpoint is marked done: resuming returns its result without training. Wall-clock
// figures (seconds, img/s) are restored as recorded for finished epochs; the epoch in progress
// adds the time it takes after the resume.
//
// Resuming refuses a checkpoint written for other settings, naming each difference, and a
// damaged one (checksum). Without resume, a directory that already holds checkpoints is refused
// (nothing is overwritten by accident).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nn/checkpoint.h"

namespace retort::examples {

struct CheckpointOptions {
  std::string dir;                  // empty: no checkpoints
  std::int64_t every_batches = 0;   // 0: epoch ends only
  bool resume = false;
  mutable std::map<std::string, int> runs;  // train_run calls so far per run name
};

class Flags;
// Binds --checkpoint-dir DIR, --checkpoint-every N (batches) and --resume to options.
void add_checkpoint_flags(Flags& flags, CheckpointOptions& options);
// The usage lines of those flags.
inline constexpr const char* kCheckpointUsage =
    "--checkpoint-dir DIR: checkpoint each run there at every epoch end (and with --checkpoint-every N\n"
    "  after every N batches); --resume continues from DIR's checkpoints, bit-identically\n";

// Before training: creates dir and checks that a file can be written there; without resume,
// refuses a dir that already holds *.ckpt files. Throws with the path and the reason.
void prepare_checkpoint_dir(const CheckpointOptions& options);

// DIR/<run>.ckpt for the first run of that name, DIR/<run>~k.ckpt for the k-th; counts it.
std::string next_checkpoint_path(const CheckpointOptions& options, const std::string& run);

// "key=value" pairs that must match between the checkpoint and the resumed run.
using Fingerprint = std::map<std::string, std::string>;
// Throws "<path> was written for other settings: epochs 10 in the checkpoint, 5 now; ..." when
// they differ.
void check_fingerprint(const std::string& path, const Fingerprint& saved, const Fingerprint& now);
std::string encode_fingerprint(const Fingerprint& f);
Fingerprint decode_fingerprint(const std::string& s);

// Exact text forms of numbers for checkpoint values (C99 hex floats for doubles), and the
// shortest decimal that reads back to the same double (for messages a person reads).
std::string hex_double(double v);
std::string short_double(double v);
double parse_double(const std::string& s, const char* what);
std::int64_t parse_int(const std::string& s, const char* what);

}  // namespace retort::examples
