// kd_datafree's data-free phase (namespace retort::examples::datafree): the images a student is
// distilled on, made from the teacher alone, and the students trained on them. Nothing here reads
// a dataset: the only data are the test split's images and labels, for evaluation (CifarData with
// the train fields holding synthesised images).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/kd_experiment.h"
#include "kd/data_free.h"

namespace retort::examples::datafree {

struct Options {
  std::int64_t classes = 10, batch = 128;
  int epochs = 10;             // inversion: epochs over the synthesised pool; dafl: evaluation points
  double lr = 1e-3, T = 4.0;   // students: Adam lr, KD temperature
  std::uint64_t seed = 42;
  // inversion
  std::int64_t di_images = 1280, di_batch = 128;
  kd::DeepInversionOptions di;
  // dafl
  int dafl_iters = 400;        // generator + student steps in all
  std::int64_t latent = 1000, gen_width = 128;
  double lr_g = 0.02;
  kd::DaflOptions dafl;
  std::string feature_tap;     // the teacher's pooled embedding (the classifier's input)
};

// DeepInversion: di_images images in batches of di_batch, targets cycling through the classes in
// a seeded random order (balanced), each batch optimised di.iterations steps (progress line per
// step). Returns images [n, 3, 32, 32] (normalised space) and their targets [n].
struct Pool {
  Tensor images, targets;
  double seconds = 0;
};
Pool synthesize_pool(nn::Module& teacher, const Options& o);

// Trains student on the pool by KD from the teacher (KD term T²·KL at T only, no labels), with
// RandomCrop(32, 4) + flip on the pool's images (the teacher sees the same augmented batch), via
// train_run: per-epoch test accuracy into rows.
RunResult train_on_pool(nn::Module& student, nn::Module& teacher, const Pool& pool, const CifarData& test,
                        const Options& o, const std::string& name, std::vector<EpochRow>& rows);

// DAFL: generator and student trained together for dafl_iters steps (DAFL-train.py's loop: the
// generator by Adam(lr_g) on L_G, the student by Adam(lr) on KD at T from the teacher on the same
// generated images, detached); evaluated o.epochs times (evenly). Returns the student's result and
// leaves a sample of generated images [classes·8 at most] in *samples with the teacher's classes.
RunResult train_dafl(nn::Module& student, nn::Module& teacher, const CifarData& test, const Options& o,
                     const std::string& name, std::vector<EpochRow>& rows, Pool* samples);

// A PNG with one row per class (up to `per_class` images of that target, normalised space undone
// with mean/std), written to path.
void write_class_grid(const std::string& path, const Pool& pool, const std::vector<double>& mean,
                      const std::vector<double>& std, std::int64_t classes, std::int64_t per_class = 8);

}  // namespace retort::examples::datafree
