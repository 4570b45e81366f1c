#!/usr/bin/python3
"""Writes tests/fixtures/conv/conv_transpose.txt from PyTorch 1.13 (float64): transposed
convolution outputs and gradients, replayed by tests/autograd/test_conv_transpose_grad.cpp.

Run from anywhere with /usr/bin/python3:  /usr/bin/python3 tests/tools/make_conv_transpose_fixtures.py

Inputs are closed-form in the row-major flat index k, as in make_conv_fixtures.py:
  x[k] = sin(0.37·k + 0.1)    w[k] = 0.5·cos(0.23·k)    b[k] = 0.1·k − 0.2
  upstream gradient gy[k] = cos(0.11·k + 0.3)
The weight is [C_in, C_out/groups, KH, KW] (PyTorch's transposed layout).
Each line is "<case> <tensor> v0 v1 ..." with <tensor> one of y, gx, gw, gb (row-major values).
"""
import os

import torch.nn.functional as F

from make_conv_fixtures import OUT, bs, line, upstream, ws, xs


def case(name, x_shape, w_shape, bias, groups=1, **kw):
    x, w = xs(x_shape), ws(w_shape)
    b = bs(w_shape[1] * groups) if bias else None
    y = F.conv_transpose2d(x, w, b, groups=groups, **kw)
    y.backward(upstream(y))
    rows = [line(name, "y", y), line(name, "gx", x.grad), line(name, "gw", w.grad)]
    if bias:
        rows.append(line(name, "gb", b.grad))
    return rows


def main():
    rows = []
    rows += case("ct_basic", (2, 3, 4, 5), (3, 4, 3, 3), True)
    # RepDistiller's ConvReg upsampling: kernel 4, stride 2, padding 1 doubles H and W.
    rows += case("ct_k4s2p1", (1, 4, 3, 4), (4, 2, 4, 4), True, stride=2, padding=1)
    rows += case("ct_options", (1, 4, 3, 5), (4, 3, 3, 2), False, stride=(3, 2), padding=(1, 0),
                 output_padding=(2, 1), groups=2)
    rows += case("ct_dilation", (2, 2, 4, 4), (2, 3, 3, 3), True, stride=2, padding=2,
                 output_padding=1, dilation=2)
    # padding beyond d·(K − 1): the zero-inserted input is cropped rather than padded.
    rows += case("ct_crop", (1, 2, 4, 3), (2, 2, 2, 1), True, stride=(3, 2), padding=(2, 1),
                 output_padding=(1, 1))
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "conv_transpose.txt")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(rows) + "\n")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
