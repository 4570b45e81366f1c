// Probing the shapes once, here, lets the objective size its regressors and embeddings for any
// pair of zoo networks without a per-model table.
#include "zoo/layout.h"

#include "autograd/grad_mode.h"
#include "tensor/error.h"

namespace retort::examples::zoo {

namespace {

std::vector<TapShape> probe(nn::ZooNet& net) {
  std::vector<std::string> paths = net.feature_taps(false);
  RETORT_CHECK(paths.size() >= 4, "kd_zoo: ", net.type_name(), " has ", paths.size(),
               " feature taps; the feature losses need a stem, two stages and an embedding");
  std::vector<nn::FeatureTap> taps;
  for (const auto& p : paths) taps.push_back(net.tap(p));
  bool training = net.is_training();
  net.eval();
  {
    NoGradGuard ng;
    auto params = net.parameters();
    net(zeros({1, 3, 32, 32}, params.front().dtype(), params.front().device()));
  }
  net.train(training);
  std::vector<TapShape> out;
  for (auto& t : taps) out.push_back({t.path(), t.output().sizes()});
  return out;
}

}  // namespace

FeatureLayout seed_layout() {
  const TapShape map_s{"features.5", {1, 16, 8, 8}}, map_t{"features.9", {1, 32, 8, 8}};
  const TapShape fsp_s{"features.2", {1, 16, 16, 16}}, fsp_t{"features.4", {1, 64, 16, 16}};
  FeatureLayout l;
  l.s_maps = {map_s};
  l.t_maps = {map_t};
  l.s_hint = l.s_last = map_s;
  l.t_hint = l.t_last = map_t;
  l.s_vec = {"classifier.1", {1, 256}};
  l.t_vec = {"classifier.1", {1, 512}};
  l.s_fsp = {fsp_s, map_s};
  l.t_fsp = {fsp_t, map_t};
  return l;
}

FeatureLayout zoo_layout(nn::ZooNet& student, nn::ZooNet& teacher) {
  std::vector<TapShape> s = probe(student), t = probe(teacher);
  RETORT_CHECK(s.size() == t.size(), "kd_zoo: the student has ", s.size(), " feature taps and the teacher ",
               t.size(), "; the feature losses pair them one to one (RepDistiller pairs networks with the "
               "same number of stages)");
  FeatureLayout l;
  l.s_maps.assign(s.begin() + 1, s.end() - 1);
  l.t_maps.assign(t.begin() + 1, t.end() - 1);
  l.s_hint = s[2];
  l.t_hint = t[2];
  l.s_last = s[s.size() - 2];
  l.t_last = t[t.size() - 2];
  l.s_vec = s.back();
  l.t_vec = t.back();
  l.s_fsp.assign(s.begin(), s.end() - 1);
  l.t_fsp.assign(t.begin(), t.end() - 1);
  return l;
}

}  // namespace retort::examples::zoo
