#!/usr/bin/env python3
"""The PyTorch 2.x peer of bench/zoo_layers.cpp, measured the same way: every distinct Conv2d
configuration (C_in, C_out, k, stride, groups, H) of the mobile zoo nets (RepDistiller's, as
transcribed in tests/tools/make_zoo_fixtures_mobile.py), float32, batch 64, fastest of --reps runs:
  fwd  y = conv2d(x, w)            bwd  gradients of x and w from a random gy
and a whole train step (forward, sum of the logits, backward; no optimiser).
usage: $(bench/peer/setup.sh) bench/peer/zoo_layers.py [--threads N] [--reps R] [--step-only]
       [model ...]
"""
import argparse
import collections
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "tools"))
import make_zoo_fixtures_mobile as zoo  # noqa: E402

BATCH = 64
MODELS = {"MobileNetV2": lambda: zoo.MobileNetV2(6, 100, 0.5), "ShuffleV1": lambda: zoo.ShuffleNetV1(100),
          "ShuffleV2": lambda: zoo.ShuffleNetV2(100)}


def fastest_ms(reps, fn):
    fn()
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - t0) * 1e3)
    return best


def conv_configs(model):
    configs = collections.Counter()
    hooks = [m.register_forward_hook(
        lambda m, inp, out: configs.update([(m.in_channels, m.out_channels, m.kernel_size[0],
                                             m.stride[0], m.groups, inp[0].shape[2])]))
        for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.randn(2, 3, 32, 32))
    for h in hooks:
        h.remove()
    return configs


def bench_model(name, reps, step_only):
    model = MODELS[name]()
    print(f"\n## {name} (batch {BATCH}, float32)")
    print(f"{'C_in':>5} {'C_out':>5} {'k':>2} {'s':>2} {'G':>5} {'H':>3} {'n':>3} | {'fwd ms':>8} "
          f"{'GF/s':>7} | {'bwd ms':>8} {'GF/s':>7} | {'n*(f+b)':>9}")
    total = 0.0
    for (cin, cout, k, s, g, h), n in sorted(({} if step_only else conv_configs(model)).items()):
        x = torch.randn(BATCH, cin, h, h, requires_grad=True)
        w = torch.randn(cout, cin // g, k, k, requires_grad=True)
        conv = lambda: F.conv2d(x, w, None, s, k // 2, 1, g)  # noqa: E731
        with torch.no_grad():
            y = conv()
        gy = torch.randn_like(y)
        with torch.no_grad():
            fwd = fastest_ms(reps, conv)

        def backward():
            y = conv()
            torch.autograd.grad(y, (x, w), gy)
        bwd = fastest_ms(reps, backward) - fwd  # the graph needs its forward; subtract it
        flop = 2.0 * BATCH * cout * y.shape[2] * y.shape[3] * (cin // g) * k * k
        total += n * (fwd + bwd)
        print(f"{cin:5d} {cout:5d} {k:2d} {s:2d} {g:5d} {h:3d} {n:3d} | {fwd:8.3f} {flop / fwd * 1e-6:7.1f}"
              f" | {bwd:8.3f} {2 * flop / bwd * 1e-6:7.1f} | {n * (fwd + bwd):9.2f}")
    model.train()
    x = torch.randn(BATCH, 3, 32, 32)

    def step():
        model.zero_grad()
        model(x).sum().backward()
    st = fastest_ms(reps, step)
    print(f"convs, summed per train step: {total:.1f} ms; whole train step (fwd+bwd, no optimiser): "
          f"{st:.1f} ms ({100 * total / st:.0f}% in convs measured alone)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--step-only", action="store_true")
    ap.add_argument("models", nargs="*", default=["MobileNetV2", "ShuffleV2"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"# zoo_layers peer torch {torch.__version__} threads={a.threads} reps={a.reps} (fastest run, ms)")
    for m in a.models:
        bench_model(m, a.reps, a.step_only)


if __name__ == "__main__":
    main()
