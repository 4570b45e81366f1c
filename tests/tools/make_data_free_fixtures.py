#!/usr/bin/python3
"""Fixtures for tests/kd/test_data_free_fixture.cpp (PyTorch 1.13, float64).

Run from anywhere:  /usr/bin/python3 tests/tools/make_data_free_fixtures.py
Writes tests/fixtures/kd/data_free.txt in the format of kd_fixture_writer.py. The cases are
written from PyTorch's own ops and from the references' code, not from the C++:
  leaky_relu / upsample   F.leaky_relu(x, 0.2), F.interpolate(x, scale_factor=2, mode="nearest")
                          (DAFL's generator), loss = sum(op(x) * w)
  tv                      DeepInversion's cifar10 loss_var (four difference norms) after
                          torch.roll(x, (1, -2), (2, 3)) and torch.flip(·, (3,)) (its jitter)
  dafl_*                  DAFL-train.py's loss_one_hot, loss_activation, loss_information_entropy
                          (log10), and oh·L_oh + a·L_a + ie·L_ie with its defaults 1, 0.1, 5,
                          differentiated in the teacher logits (features fixed) and in the features
"""
import torch
import torch.nn.functional as F

import kd_fixture_writer

torch.set_default_dtype(torch.float64)
torch.manual_seed(20261206)

w = kd_fixture_writer.Writer("data_free.txt", "make_data_free_fixtures.py")

x = torch.randn(2, 3, 4, 5)
wl = torch.randn(2, 3, 4, 5)
w.tensor("x", x)
w.tensor("wl", wl)
w.case("leaky_relu", lambda v: (F.leaky_relu(v, 0.2) * wl).sum(), x)

u = torch.randn(2, 3, 3, 4)
wu = torch.randn(2, 3, 6, 8)
w.tensor("u", u)
w.tensor("wu", wu)
w.case("upsample", lambda v: (F.interpolate(v, scale_factor=2, mode="nearest") * wu).sum(), u)


def loss_var(inputs_jit):
    diff1 = inputs_jit[:, :, :, :-1] - inputs_jit[:, :, :, 1:]
    diff2 = inputs_jit[:, :, :-1, :] - inputs_jit[:, :, 1:, :]
    diff3 = inputs_jit[:, :, 1:, :-1] - inputs_jit[:, :, :-1, 1:]
    diff4 = inputs_jit[:, :, :-1, :-1] - inputs_jit[:, :, 1:, 1:]
    return torch.norm(diff1) + torch.norm(diff2) + torch.norm(diff3) + torch.norm(diff4)


img = torch.randn(2, 3, 5, 6)
w.tensor("img", img)
w.case("tv_jitter", lambda v: loss_var(torch.flip(torch.roll(v, shifts=(1, -2), dims=(2, 3)), dims=(3,))), img)

t = torch.randn(6, 10) * 3
f = torch.randn(6, 16)
w.tensor("t", t)
w.tensor("f", f)


def dafl(outputs_T, features_T, oh=1.0, a=0.1, ie=5.0):
    pred = outputs_T.data.max(1)[1]
    loss_activation = -features_T.abs().mean()
    loss_one_hot = F.cross_entropy(outputs_T, pred)
    softmax_o_T = F.softmax(outputs_T, dim=1).mean(dim=0)
    loss_information_entropy = (softmax_o_T * torch.log10(softmax_o_T)).sum()
    return loss_one_hot * oh + loss_information_entropy * ie + loss_activation * a


w.case("dafl_logits", lambda v: dafl(v, f), t)
w.case("dafl_features", lambda v: dafl(t, v), f)
print("wrote tests/fixtures/kd/data_free.txt")
