// Everything of kd/ (namespace retort::kd): response (logit), relation, feature (hint, AT, NST,
// FSP, VID), cosine hidden-representation and CRD distillation losses; the Distiller and the
// schemes built around it (adversarial and data-free distillation, deep mutual learning,
// self-distillation, two-stage FitNets, teacher-assistant chains, cross-modal and lifelong
// distillation, the architecture search of a distilled student) and the cost per loss.
// docs/kd.md lists the formulas, defaults and the reference each one follows.
#pragma once
#include "kd/cosine.h"
#include "kd/crd.h"
#include "kd/feature.h"
#include "kd/fsp.h"
#include "kd/relation.h"
#include "kd/response.h"
#include "kd/vid.h"
#include "kd/adversarial.h"
#include "kd/attribution.h"
#include "kd/cost.h"
#include "kd/dafl_generator.h"
#include "kd/data_free.h"
#include "kd/distiller.h"
#include "kd/assistant.h"
#include "kd/dml.h"
#include "kd/fitnets.h"
#include "kd/graph_dump.h"
#include "kd/nas.h"
#include "kd/nas_train.h"
#include "kd/self_distill.h"
#include "kd/crossmodal.h"
#include "kd/lwf.h"
