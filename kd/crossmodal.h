// Cross-modal distillation (Gupta, Hoffman & Malik 2016, "Cross Modal Distillation for
// Supervision Transfer"): a student on one modality learns from a teacher on another, through
// paired samples — here the teacher sees an RGB image and the student a modality derived from
// the same image (data/modality.h), and the student's loss holds no labels at all.
//
// without_labels(term): the same term, but its fn is handed a copy of the Context whose targets
// are an empty int64 [0] tensor — no labels — so a term that uses them fails on the shape (a
// cross-entropy throws naming the shapes; the message is prefixed with the term's name) instead
// of quietly learning from them: a "teacher only" objective learns from the teacher alone.
//
// crossmodal_kd_term(T, weight): without_labels of Hinton's KD on the logits,
//   "kd": kd_loss(student_logits, teacher_logits, {.T = T}) = T²·Σ_n KL(p_t ‖ p_s)/N,
// with the teacher's logits computed on the RGB half of the pair. Gupta et al. regress a
// mid-level feature map (L2 to the teacher's pool5/conv features) and then fine-tune; Retort's
// examples transfer the teacher's output distribution instead (docs/kd.md).
#pragma once
#include "kd/distiller.h"

namespace retort::kd {

Term without_labels(Term term);
Term crossmodal_kd_term(double T = 4.0, double weight = 1.0);

}  // namespace retort::kd
