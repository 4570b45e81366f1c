// What each distillation loss costs (namespace retort::kd): an analytic estimate per loss
// (kd::cost::*) and, from the Distiller, a measured row per term (Distiller::term_costs).
//
// Analytic model (a leading-order count for Retort's implementation of each loss, forward only):
//   flops: a matmul counts 2·M·N·K (multiply + add); every elementwise op or reduction counts
//          1 per element; terms of lower order (O(B·D) next to O(B²·D), O(B)) are dropped.
//   bytes: the summed size of the forward's intermediates of the leading size (those the
//          backward keeps, plus the transient ones), at `elem` bytes per element (4 = float32).
//          The backward allocates about as much again (gradients of the same tensors).
//   state_bytes: persistent state the loss holds between steps (CRD's memory banks).
// Shapes: B = batch size, K = classes, D_s / D_t = flattened student / teacher feature widths.
//
//   loss            flops                                           bytes / elem
//   kd(B, K)        20·B·K                                          10·B·K
//   sp              2·B²·(D_s+D_t) + 11·B²                          8·B²        (B×B Grams)
//   rkd_distance    2·B²·(D_s+D_t) + 23·B²                          20·B²       (B×B distances)
//   rkd_angle       2·B³·(D_s+D_t) + 4·B²·(D_s+D_t) + 7·B³          3·B²·(D_s+D_t) + 6·B³
//                   (difference vectors [B,B,D] per side, normalised; angles [B,B,B] per side,
//                   smooth-L1 over B³)
//   rkd             rkd_distance + rkd_angle
//   pkt             2·B²·(D_s+D_t) + 14·B²                          13·B²
//   cc(order P)     2·B²·(D_s+D_t) + (6P+7)·B²                      (6P+8)·B²
//   crd(B, S, T, F, K, n)  2·B·F·(S+T) + 4·B·(K+1)·F + 20·B·(K+1)   2·B·(K+1)·F + 10·B·(K+1)
//                   (the memory rows gathered for the B·(K+1) contrasts, one [B, K+1, F] per
//                   side); state 2·n·F (the two banks)
//
// Measured (Distiller::term_costs): the Context is prepared once (teacher and student forwards
// without graph), then for each term the student-side tensors become fresh leaves and the term
// runs alone: wall time of its forward (fn(Context)) and of its backward (down to those leaves
// and to the term's own modules, e.g. a HintRegressor or CRD's embeddings, whose .grad it
// accumulates into — zero them before training), and the peak of bytes allocated by tensors
// during the term above what was live before it (tensor/cpu/allocator.h counter; memory that
// oneDNN allocates for itself is not seen). A term with state (CRD) updates it as in a step.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace retort::kd {

namespace cost {

struct Estimate {
  double flops = 0;        // forward FLOPs
  double bytes = 0;        // forward intermediates
  double state_bytes = 0;  // persistent state
  std::string dominant;    // the largest intermediate, in words

  Estimate& operator+=(const Estimate& o);
};

Estimate kd(std::int64_t B, std::int64_t K, std::size_t elem = 4);
Estimate sp(std::int64_t B, std::int64_t D_s, std::int64_t D_t, std::size_t elem = 4);
Estimate rkd_distance(std::int64_t B, std::int64_t D_s, std::int64_t D_t, std::size_t elem = 4);
Estimate rkd_angle(std::int64_t B, std::int64_t D_s, std::int64_t D_t, std::size_t elem = 4);
Estimate rkd(std::int64_t B, std::int64_t D_s, std::int64_t D_t, std::size_t elem = 4);
Estimate pkt(std::int64_t B, std::int64_t D_s, std::int64_t D_t, std::size_t elem = 4);
Estimate cc(std::int64_t B, std::int64_t D_s, std::int64_t D_t, std::int64_t order = 2,
            std::size_t elem = 4);
// S, T: student / teacher feature widths; F: embedding width; K: negatives; n: data set size.
Estimate crd(std::int64_t B, std::int64_t S, std::int64_t T, std::int64_t F, std::int64_t K,
             std::int64_t n, std::size_t elem = 4);

}  // namespace cost

// One row of Distiller::term_costs.
struct TermCost {
  std::string name;
  double weight = 0;          // λ_j at the current step
  double value = 0;           // ℓ_j
  bool has_estimate = false;  // the term has a cost callback
  cost::Estimate estimate;
  double forward_ms = 0, backward_ms = 0;  // fastest of the repeats
  std::size_t peak_bytes = 0;              // largest of the repeats
};

// A fixed-width table: term, λ, value, analytic MFLOP / MiB / state MiB ("-" without an
// estimate), measured forward ms, backward ms, peak MiB; then a total line.
void print_term_costs(std::ostream& os, const std::vector<TermCost>& rows);

}  // namespace retort::kd
