#!/usr/bin/python3
"""Writes tests/fixtures/conv/pytorch.txt from PyTorch 1.13 (float64): convolution and pooling
outputs and gradients, replayed by tests/tensor/test_conv.cpp and test_pool.cpp.

Run from anywhere with /usr/bin/python3:  /usr/bin/python3 tests/tools/make_conv_fixtures.py

Inputs are closed-form in the row-major flat index k, so the C++ tests rebuild them exactly:
  x[k] = sin(0.37·k + 0.1)    w[k] = 0.5·cos(0.23·k)    b[k] = 0.1·k − 0.2
  upstream gradient gy[k] = cos(0.11·k + 0.3)
Each line is "<case> <tensor> v0 v1 ..." with <tensor> one of y, gx, gw, gb (row-major values).
"""
import math
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "conv")


def filled(shape, f):
    n = math.prod(shape)
    return torch.tensor([f(k) for k in range(n)], dtype=torch.float64).reshape(shape)


def xs(shape):
    return filled(shape, lambda k: math.sin(0.37 * k + 0.1)).requires_grad_()


def ws(shape):
    return filled(shape, lambda k: 0.5 * math.cos(0.23 * k)).requires_grad_()


def bs(n):
    return filled((n,), lambda k: 0.1 * k - 0.2).requires_grad_()


def upstream(y):
    return filled(tuple(y.shape), lambda k: math.cos(0.11 * k + 0.3))


def line(case, name, t):
    return case + " " + name + " " + " ".join(repr(v) for v in t.detach().reshape(-1).tolist())


def conv_case(name, x_shape, w_shape, bias, **kw):
    x, w = xs(x_shape), ws(w_shape)
    b = bs(w_shape[0]) if bias else None
    y = F.conv2d(x, w, b, **kw)
    y.backward(upstream(y))
    rows = [line(name, "y", y), line(name, "gx", x.grad), line(name, "gw", w.grad)]
    if bias:
        rows.append(line(name, "gb", b.grad))
    return rows


def pool_case(name, x_shape, fn):
    x = xs(x_shape)
    y = fn(x)
    y.backward(upstream(y))
    return [line(name, "y", y), line(name, "gx", x.grad)]


def main():
    rows = []
    rows += conv_case("conv_basic", (2, 3, 7, 9), (5, 3, 3, 3), True, padding=1)
    rows += conv_case("conv_options", (1, 4, 9, 8), (6, 2, 3, 2), False, stride=(2, 1),
                      padding=(1, 2), dilation=(2, 1), groups=2)
    rows += pool_case("max_k3s2p1", (2, 3, 7, 9), lambda x: F.max_pool2d(x, 3, 2, 1))
    rows += pool_case("max_k2", (1, 2, 7, 9), lambda x: F.max_pool2d(x, 2))
    rows += pool_case("avg_incl", (2, 3, 7, 9), lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True))
    rows += pool_case("avg_excl", (2, 3, 7, 9), lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False))
    rows += pool_case("adaptive_3x4", (2, 3, 7, 9), lambda x: F.adaptive_avg_pool2d(x, (3, 4)))
    rows += pool_case("adaptive_4x3", (1, 2, 8, 9), lambda x: F.adaptive_avg_pool2d(x, (4, 3)))
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "pytorch.txt"), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
