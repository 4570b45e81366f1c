// Everything of nn/ (namespace retort::nn): Module, hooks and feature taps, the layers,
// initialisers, losses (retort::F), the seed nets and safetensors checkpoints.
#pragma once
#include "nn/basic.h"
#include "nn/batchnorm.h"
#include "nn/functional.h"
#include "nn/generator_layers.h"
#include "nn/hooks.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/macs.h"
#include "nn/models.h"
#include "nn/module.h"
#include "nn/pooling.h"
#include "nn/serialization.h"
#include "nn/zoo.h"
