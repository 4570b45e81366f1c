// Retort's umbrella header: everything a training program needs.
#pragma once
#include "retort_config.h"
#include "tensor/tensor.h"
#include "tensor/random.h"
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/ops/elementwise.h"
#include "autograd/ops/index.h"
#include "autograd/ops/nn_ops.h"
#include "autograd/ops/reduce.h"
#include "autograd/ops/shape.h"
