#!/usr/bin/python3
"""Fixtures for tests/kd/test_adversarial.cpp (PyTorch 1.13, float64).

Run from anywhere:  /usr/bin/python3 tests/tools/make_adversarial_fixtures.py
Writes tests/fixtures/kd/adversarial.txt in the format of make_kd_fixtures.py
  tensor <name> <ndim> <dims...> <values...>
  case <name> <loss value> <numel> <d loss / d student input...>
PyTorch's own softplus and binary_cross_entropy_with_logits, and a transcription of the
adversarial-distillation losses (a GAN discriminator on softened logits, BCE real/fake, the
non-saturating generator loss) with an nn.Sequential MLP, not of the C++ code.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

import kd_fixture_writer

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

w = kd_fixture_writer.Writer("adversarial.txt", "make_adversarial_fixtures.py")

# Logits over the whole range, the extremes where a naive log(1 + exp(x)) overflows (800) or
# rounds to 0 (−50). torch's softplus returns x itself above its threshold 20, exact to rounding
# for these values (e^-50 is far below float64's resolution at 50).
x = torch.tensor([-800.0, -50.0, -20.0, -3.0, -0.5, 1e-3, 0.1, 0.7, 2.0, 15.0, 50.0, 800.0])
y = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.25, 1.0, 0.0, 0.5, 1.0, 0.0, 0.0, 1.0])
w.tensor("x", x)
w.tensor("y", y)
w.case("softplus_sum", lambda v: F.softplus(v).sum(), x)
w.case("bce_mean", lambda v: F.binary_cross_entropy_with_logits(v, y), x)
w.case("bce_sum", lambda v: F.binary_cross_entropy_with_logits(v, y, reduction="sum"), x)

# Discriminator logits on teacher (d_t) and student (d_s) inputs.
d_t = torch.randn(6) * 2
d_s = torch.randn(6) * 2
w.tensor("d_t", d_t)
w.tensor("d_s", d_s)


def d_loss(dt, ds):
    return 0.5 * (F.binary_cross_entropy_with_logits(dt, torch.ones_like(dt)) +
                  F.binary_cross_entropy_with_logits(ds, torch.zeros_like(ds)))


w.case("d_loss_wrt_student", lambda v: d_loss(d_t, v), d_s)
w.case("d_loss_wrt_teacher", lambda v: d_loss(v, d_s), d_t)
w.case("adv_loss", lambda v: F.binary_cross_entropy_with_logits(v, torch.ones_like(v)), d_s)

# A whole discriminator: MLP 10 → 8 → 8 → 1 with ReLU on softmax(z / T), T = 2.
T = 2.0
mlp = nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
for k, v in mlp.state_dict().items():
    w.tensor("net." + k, v)
z_t = torch.randn(5, 10) * 3
z_s = torch.randn(5, 10) * 3
w.tensor("z_t", z_t)
w.tensor("z_s", z_s)


def D(z):
    return mlp(F.softmax(z / T, dim=1)).squeeze(1)


w.case("mlp_adv_loss", lambda v: F.binary_cross_entropy_with_logits(D(v), torch.ones(5)), z_s)
w.case("mlp_d_loss_wrt_student", lambda v: d_loss(D(z_t), D(v)), z_s)
with torch.no_grad():
    w.tensor("mlp_d_t", D(z_t))
    w.tensor("mlp_d_s", D(z_s))
