#!/usr/bin/python3
"""The model zoo in PyTorch: RepDistiller's CIFAR networks as transcribed for the parity fixtures
(make_zoo_fixtures_resnet.py, make_zoo_fixtures_mobile.py), by name, with RepDistiller's own
initialisation. Used by the peers (bench/peer/torch_zoo.py, scripts/peer_zoo.py), so that the
networks PyTorch trains there are the ones the fixtures pin Retort's against.

  canon, model = zoo_model("RESNET8x4", num_classes=100)   # names in any case
  feats, logits = model(x, is_feat=True)                    # RepDistiller's feature list
"""
import math
import os
import sys

import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_zoo_fixtures_mobile as _mobile  # noqa: E402
import make_zoo_fixtures_resnet as _resnet  # noqa: E402

MODELS = {**_resnet.MODELS, **_mobile.MODELS}


def canonical(name):
    for k in MODELS:
        if k.lower() == name.lower():
            return k
    raise SystemExit(f"unknown model {name!r}; known: {' '.join(MODELS)}")


def repdistiller_init(canon, model):
    """RepDistiller's per-family initialisation (its models/*.py), applied after construction."""
    if canon.startswith("Shuffle"):
        return  # ShuffleNetv1.py / ShuffleNetv2.py keep PyTorch's defaults
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            # resnet.py: kaiming_normal_(fan_out, relu); wrn.py, vgg.py, mobilenetv2.py:
            # normal_(0, sqrt(2 / (k·k·out_channels))) — the same distribution.
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            m.weight.data.normal_(0, math.sqrt(2.0 / n))
            if m.bias is not None:
                m.bias.data.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.fill_(1)
            m.bias.data.zero_()
        elif isinstance(m, nn.Linear):
            if canon.startswith("vgg") or canon == "MobileNetV2":
                m.weight.data.normal_(0, 0.01)
            if canon.startswith(("wrn", "vgg")) or canon == "MobileNetV2":
                m.bias.data.zero_()


def _set_classes(model, num_classes):
    """Replaces the classifier (the last Linear) by one with num_classes outputs."""
    parent, attr, last = None, None, None
    for pname, p in model.named_modules():
        for cname, c in p.named_children():
            if isinstance(c, nn.Linear):
                parent, attr, last = p, cname, c
    setattr(parent, attr, nn.Linear(last.in_features, num_classes, bias=last.bias is not None))


def zoo_model(name, num_classes=100):
    canon = canonical(name)
    model = MODELS[canon]()
    if num_classes != 100:
        _set_classes(model, num_classes)
    repdistiller_init(canon, model)
    return canon, model
