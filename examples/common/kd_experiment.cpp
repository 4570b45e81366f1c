// The harness behind the CIFAR-10 examples. Data are normalised once up front (the common case,
// and what makes the teacher cache exact); with augmentation the loader crops, flips and
// normalises each batch on its worker thread. One training loop serves the teacher, the
// baseline student and every distilled student, so all of them are timed and logged alike.
#include "common/kd_experiment.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/distributed.h"
#include "common/progress.h"
#include "data/cifar10.h"
#include "data/cifar100.h"
#include "data/transforms.h"
#include "nn/functional.h"
#include "nn/serialization.h"
#include "optim/adam.h"
#include "retort.h"
#include "retort_config.h"
#include "tensor/cuda/cuda_backend.h"

#if RETORT_WITH_MPI
#include "dist/sampler.h"
#include "dist/shard.h"
#endif

namespace retort::examples {

Device parse_device(const std::string& spec) {
  Device dev;
  try {
    dev = Device(spec);
  } catch (const Error& e) {
    fail("--device ", spec, ": ", e.what());
  }
  if (dev.is_cuda()) {
    RETORT_CHECK(RETORT_WITH_CUDA, "--device ", spec, ": this build has no CUDA (configure with -DRETORT_WITH_CUDA=ON)");
    RETORT_CHECK(dev.index < cuda::device_count(), "--device ", spec, ": no such CUDA device (",
                 cuda::device_count(), " present)");
  }
  return dev;
}

Device device_of(nn::Module& m) {
  auto ps = m.parameters();
  return ps.empty() ? kCPU : ps.front().device();
}

CifarData load_data(const DataOptions& o) {
  RETORT_CHECK(o.dataset == "cifar10" || o.dataset == "cifar100", "load_data: unknown dataset '", o.dataset,
               "' (cifar10 or cifar100)");
  const bool c100 = o.dataset == "cifar100";
  auto load = [&](data::Split split, std::int64_t limit) {
    return c100 ? data::load_cifar100(split, o.dir, data::Cifar100Labels::Fine, limit)
                : data::load_cifar10(split, o.dir, limit);
  };
  data::Cifar10 train = load(data::Split::Train, o.train_limit);
  data::Cifar10 test = load(data::Split::Test, o.test_limit);
  // load_cifar10 never returns an empty split (whole splits are complete, limits positive); an
  // empty one here would train on nothing and report 0/0 = nan accuracy.
  RETORT_CHECK(train.labels.numel() > 0 && test.labels.numel() > 0, "load_data: ", o.dir, ": empty split (",
               train.labels.numel(), " train / ", test.labels.numel(), " test images)");
  CifarData d;
  d.mean = c100 ? data::kCifar100Mean : data::kImageNetMean;
  d.std = c100 ? data::kCifar100Std : data::kImageNetStd;
  d.train_raw = train.images;
  d.train_norm = data::normalize(train.images, d.mean, d.std);
  d.train_labels = train.labels;
  d.test_images = data::normalize(test.images, d.mean, d.std);
  d.test_labels = test.labels;
  d.device = o.device;
  return d;
}

namespace {

// The positions of the labels that are (keep) or are not in classes, as an int64 index [n].
Tensor class_index(const Tensor& labels, const std::vector<std::int64_t>& classes, bool keep) {
  std::set<std::int64_t> cs(classes.begin(), classes.end());
  std::vector<std::int64_t> idx;
  std::vector<std::int64_t> ls = labels.to_vector<std::int64_t>();
  for (std::size_t i = 0; i < ls.size(); ++i)
    if ((cs.count(ls[i]) > 0) == keep) idx.push_back(static_cast<std::int64_t>(i));
  RETORT_CHECK(!idx.empty(), "select_classes: no sample left of ", ls.size());
  return from_vector(idx, {static_cast<std::int64_t>(idx.size())});
}

}  // namespace

CifarData select_classes(const CifarData& d, const std::vector<std::int64_t>& classes, bool keep) {
  Tensor tr = class_index(d.train_labels, classes, keep), te = class_index(d.test_labels, classes, keep);
  return {index_select(d.train_raw, 0, tr), index_select(d.train_norm, 0, tr),
          index_select(d.train_labels, 0, tr), index_select(d.test_images, 0, te),
          index_select(d.test_labels, 0, te), d.device, d.mean, d.std};
}

std::unique_ptr<data::DataLoader> make_loader(const CifarData& d, std::int64_t batch, std::uint64_t seed,
                                              bool augment) {
  data::LoaderOptions lo{.batch_size = batch, .shuffle = true, .seed = seed};
  // Without augmentation a batch is an index gather from memory (about 0.1 ms): a worker thread
  // has nothing to hide and only takes a core from the OpenMP threads now and then (students at
  // 15.5k img/s with it and 18k without in a short run on the 2-core machine; within the noise
  // over the full protocol, docs/performance.md).
  if (!augment) lo.prefetch = 0;
#if RETORT_WITH_MPI
  // Distributed: this rank's part of each global batch; its own augmentation stream.
  if (dist_info().on) {
    const std::int64_t n = d.train_labels.numel();
    lo.batch_sampler = std::make_shared<dist::DistributedSampler>(n, global_batch(batch), dist_info().size,
                                                                  dist_info().rank, true, seed);
    lo.seed = seed + 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(dist_info().rank);
  }
#endif
  std::shared_ptr<data::Dataset> ds;
  if (augment) {
    ds = std::make_shared<data::TensorDataset>(d.train_raw, d.train_labels);
    lo.transform = data::compose({data::RandomCrop{32, 4}, data::RandomHFlip{},
                                  data::Normalize{d.mean, d.std}});
  } else {
    ds = std::make_shared<data::TensorDataset>(d.train_norm, d.train_labels);
  }
  return std::make_unique<data::DataLoader>(ds, lo);
}

double evaluate(nn::Module& net, const Tensor& images, const Tensor& labels) {
  NoGradGuard ng;
  net.eval();
  const Device dev = device_of(net);
  std::int64_t correct = 0, n = labels.numel(), begin = 0, end = n;
#if RETORT_WITH_MPI
  if (dist_info().on) {  // this rank's whole batches; the counts summed over the ranks below
    const dist::Range r = dist::shard_range(n, kInferenceBatch, dist_info().size, dist_info().rank);
    begin = r.begin;
    end = r.end;
  }
#endif
  for (std::int64_t s = begin; s < end; s += kInferenceBatch) {
    std::int64_t len = std::min(kInferenceBatch, end - s);
    Tensor pred = argmax(net(narrow(images, 0, s, len).to(dev)), 1);
    correct += sum(eq(pred, narrow(labels, 0, s, len).to(dev))).item<std::int64_t>();
  }
#if RETORT_WITH_MPI
  if (dist_info().on) correct = dist::sum_counts(dist::ProcessGroup::world(), {correct})[0];
#endif
  net.train();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(n);
}

bool TeacherCache::covers(const std::vector<std::string>& taps) const {
  return logits.defined() &&
         std::all_of(taps.begin(), taps.end(), [&](const std::string& t) { return features.count(t) > 0; });
}

std::int64_t TeacherCache::bytes() const {
  std::int64_t n = logits.defined() ? logits.numel() : 0;
  for (const auto& [k, f] : features) n += f.numel();
  return n * 4;
}

TeacherCache cache_teacher(nn::Module& teacher, const Tensor& images, const std::vector<std::string>& taps) {
  NoGradGuard ng;
  teacher.eval();
  const Device dev = device_of(teacher);
  std::vector<nn::FeatureTap> tapped;
  for (const auto& p : taps) tapped.push_back(teacher.tap(p));
  std::vector<Tensor> logits;
  std::map<std::string, std::vector<Tensor>> parts;
  std::int64_t begin = 0, end = images.size(0);
#if RETORT_WITH_MPI
  if (dist_info().on) {  // this rank's whole batches, all-gathered below: the same batches as one process
    const dist::Range r = dist::shard_range(end, kInferenceBatch, dist_info().size, dist_info().rank);
    begin = r.begin;
    end = r.end;
  }
#endif
  for (std::int64_t s = begin; s < end; s += kInferenceBatch) {
    logits.push_back(teacher(narrow(images, 0, s, std::min(kInferenceBatch, end - s)).to(dev)));
    for (auto& t : tapped) {
      parts[t.path()].push_back(t.output());
      t.clear();
    }
  }
  TeacherCache c;
  c.logits = logits.empty() ? empty({0}, kFloat32, dev) : cat(logits, 0);
  for (auto& [k, v] : parts) c.features[k] = cat(v, 0);
#if RETORT_WITH_MPI
  if (dist_info().on) {
    dist::ProcessGroup& pg = dist::ProcessGroup::world();
    c.logits = pg.all_gather(c.logits);
    for (const auto& p : taps) {  // in the same order on every rank, also one without rows
      auto it = c.features.find(p);
      c.features[p] = pg.all_gather(it != c.features.end() ? it->second : empty({0}, kFloat32, dev));
    }
  }
#endif
  return c;
}

Objective cross_entropy_objective() {
  Objective o;
  o.terms.push_back({"ce", 1.0, [](const kd::Context& c) { return F::cross_entropy(c.student_logits, c.targets); }});
  return o;
}

// F::kl_div takes 0·log 0 as 0: written as p·(log p − log q) with log(softmax), a teacher
// probability that underflows to 0 (a logit gap above ≈ 100·T in float32) gave 0·(−inf) = NaN.
kd::Term seed_kl_term(double T, double weight) {
  return {"kd", weight, [T](const kd::Context& c) {
            return F::kl_div(log_softmax(c.student_logits / T, -1),
                             softmax(c.teacher_logits / T, -1), F::Reduction::BatchMean) *
                   (T * T);
          }};
}

RunResult load_and_evaluate(nn::Module& net, const std::string& name, const std::string& path,
                            const CifarData& d) {
  nn::load_safetensors(net, path);
  net.to(d.device);
  RunResult r{name, net.num_parameters()};
  r.last = r.best = evaluate(net, d.test_images, d.test_labels);
  std::printf("%s loaded from %s: test_acc %.2f%%\n", name.c_str(), path.c_str(), r.last);
  return r;
}

std::vector<int> scaled_milestones(int epochs) {
  std::vector<int> out;
  for (int m : SgdProtocol{}.milestones) out.push_back(static_cast<int>(static_cast<std::int64_t>(m) * epochs / 240));
  return out;
}

double sgd_epoch_lr(const SgdProtocol& p, double lr, int epoch) {
  for (int m : p.milestones)
    if (epoch > m) lr *= p.gamma;
  return lr;
}

}  // namespace retort::examples
