// Everything of kd/ (namespace retort::kd): response (logit), relation and feature distillation
// losses. docs/kd.md lists the formulas, defaults and the reference each one follows.
#pragma once
#include "kd/feature.h"
#include "kd/relation.h"
#include "kd/response.h"
