// Where kd_zoo's feature losses read their features (namespace retort::examples::zoo): module paths
// on the student and the teacher, with each tap's shape for one image ([1, C, H, W] or [1, D]).
//
//   field            losses               seed nets (seed_layout)           zoo nets (zoo_layout)
//   maps (pairs)     at, nst, vid         features.5 / features.9           feat[1 .. −2]: every stage
//   hint             fitnet               features.5 / features.9           feat[2] (hint_layer 2)
//   last             sp, cosine           features.5 / features.9           feat[−2]: the last stage
//   vec              rkd, pkt, cc, crd    classifier.1 / classifier.1       feat[−1]: the embedding
//   fsp (sequence)   fsp                  {features.2, features.5} /        feat[0 .. −2]
//                                         {features.4, features.9}
// feat is RepDistiller's is_feat list (nn::ZooNet::feature_taps(), post-ReLU as train_student.py
// uses it); the zoo column is train_student.py's choice per method. RepDistiller needs equal
// channel counts for FSP; here a student map whose channels differ gets a learnable 1×1 conv to the
// teacher's, as the seed nets do.
#pragma once
#include <string>
#include <vector>

#include "nn/zoo.h"
#include "tensor/shape.h"

namespace retort::examples::zoo {

struct TapShape {
  std::string path;
  Shape shape;  // one image
};

struct FeatureLayout {
  std::vector<TapShape> s_maps, t_maps;
  TapShape s_hint, t_hint, s_last, t_last, s_vec, t_vec;
  std::vector<TapShape> s_fsp, t_fsp;
};

// The seed TeacherNet → StudentNet taps (losses.h's header table).
FeatureLayout seed_layout();
// RepDistiller's taps for student ← teacher; shapes from one eval-mode forward of a zero image per
// network (each is back in its former mode afterwards).
FeatureLayout zoo_layout(nn::ZooNet& student, nn::ZooNet& teacher);

}  // namespace retort::examples::zoo
