// The transfer study: classes 8 (ship) and 9 (truck) are held out of the teacher's and the
// students' training (and of their test accuracy); then each frozen network's penultimate
// features ("classifier.1": 512 for TeacherNet, 256 for StudentNet, eval mode) feed a linear
// probe Linear(D → 2) trained on the held-out classes' training images and tested on their
// test images. Does distillation carry features that transfer to unseen classes better than
// CE training alone?
#include <cstdio>

#include "nn/functional.h"
#include "nn/linear.h"
#include "optim/adam.h"
#include "retort.h"
#include "studies/study.h"

namespace retort::examples::studies {

namespace {

const std::vector<std::int64_t> kHeldOut{8, 9};
constexpr int kProbeEpochs = 20;

// Penultimate features of images [N, ...] (eval, no_grad, batches of kInferenceBatch): [N, D].
Tensor features(nn::Module& net, const Tensor& images) {
  NoGradGuard ng;
  net.eval();
  nn::FeatureTap tap = net.tap("classifier.1");
  std::vector<Tensor> parts;
  for (std::int64_t s = 0; s < images.size(0); s += kInferenceBatch) {
    net(narrow(images, 0, s, std::min(kInferenceBatch, images.size(0) - s)).to(device_of(net)));
    parts.push_back(tap.output().to(kCPU));  // the probe itself is small: it trains on the host
    tap.clear();
  }
  net.train();
  return cat(parts, 0);
}

// Labels 8, 9 → 0, 1 (int64).
Tensor minus8(const Tensor& labels) {
  std::vector<std::int64_t> v = labels.to_vector<std::int64_t>();
  for (auto& x : v) x -= 8;
  return from_vector(v, {static_cast<std::int64_t>(v.size())});
}

// Linear probe: Adam (lr 1e-3), batch 128, kProbeEpochs epochs on (train features, labels − 8);
// returns the test accuracy in percent.
double probe(nn::Module& net, const CifarData& held, std::uint64_t seed) {
  Tensor ftr = features(net, held.train_norm), fte = features(net, held.test_images);
  Tensor ytr = minus8(held.train_labels), yte = minus8(held.test_labels);
  manual_seed(seed);
  auto lin_ptr = std::make_shared<nn::Linear>(ftr.size(1), 2);
  nn::Linear& lin = *lin_ptr;
  optim::Adam opt(lin.parameters(), {.lr = 1e-3});
  Generator gen(seed);
  const std::int64_t n = ftr.size(0);
  for (int e = 0; e < kProbeEpochs; ++e) {
    Tensor perm = randperm(n, &gen);
    for (std::int64_t s = 0; s < n; s += 128) {
      Tensor idx = narrow(perm, 0, s, std::min<std::int64_t>(128, n - s));
      opt.zero_grad();
      Tensor loss = F::cross_entropy(lin(index_select(ftr, 0, idx)), index_select(ytr, 0, idx));
      loss.backward();
      opt.step();
    }
  }
  NoGradGuard ng;
  std::int64_t correct = sum(eq(argmax(lin(fte), 1), yte)).item<std::int64_t>();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(yte.numel());
}

}  // namespace

void transfer(Context& c) {
  const int E = c.args().epochs, TE = c.args().teacher_epochs;
  TeacherEntry& teacher = c.teacher(TE, kHeldOut);
  RunSpec base{.key = "ce_hold8-9", .name = "student_hold8-9", .epochs = E, .holdout = kHeldOut};
  RunSpec kd{.key = "kd_T2_kd0.25_ce0.75_hold8-9", .name = "kd_student_hold8-9", .epochs = E,
             .objective = [] {
               Objective o = cross_entropy_objective();
               o.terms[0].weight = 0.75;
               o.terms.insert(o.terms.begin(), seed_kl_term(2.0, 0.25));
               return o;
             },
             .teacher = teacher.net.get(), .cache = &c.teacher_cache(teacher, kHeldOut), .holdout = kHeldOut};
  const Trained& tb = c.run(base);
  const Trained& tk = c.run(kd);
  CifarData held = select_classes(c.data(), kHeldOut, /*keep=*/true);
  std::printf("linear probes on %lld train / %lld test images of classes 8, 9...\n",
              static_cast<long long>(held.train_labels.numel()), static_cast<long long>(held.test_labels.numel()));
  Table t{"transfer: trained without classes 8, 9 (teacher " + std::to_string(TE) + " epochs, students " +
              std::to_string(E) + "); linear probe (" + std::to_string(kProbeEpochs) +
              " epochs) on frozen penultimate features for 8 vs 9",
          {"model", "acc on classes 0-7", "probe acc 8 vs 9"}, {}};
  t.add({"teacher (CE)", fmt(teacher.acc, 2), fmt(probe(*teacher.net, held, c.args().seed), 2)});
  t.add({"student (CE)", fmt(tb.result(E).last, 2), fmt(probe(*tb.net, held, c.args().seed), 2)});
  t.add({"student (KD)", fmt(tk.result(E).last, 2), fmt(probe(*tk.net, held, c.args().seed), 2)});
  c.report("transfer", t, {2, 3}, "accuracy (%)");
}

}  // namespace retort::examples::studies
