#!/usr/bin/env python3
"""Peer timing for the model zoo: the same workloads as `retort_bench --model NAME`, in PyTorch.

usage: torch_zoo.py MODEL [threads] [steps] [mode]
  mode: eager (default), channels_last, or compile (torch.compile; compilation happens in the
  warm-up steps and is not timed). Run it with PyTorch 2.x from bench/peer/setup.sh's venv.
Workloads, batch 64, random normal input, 100 classes, the model in RepDistiller's structure (the
PyTorch transcriptions in tests/tools/, the same ones the parity fixtures come from):
  MODEL_train  forward, cross-entropy, backward, SGD step (momentum 0.9, weight decay 5e-4,
               lr 0.01 for MobileNetV2/ShuffleV1/ShuffleV2, else 0.05) in train mode
  MODEL_infer  eval mode, forward under no_grad
Median over `steps` after 3 warm-up steps. The last line, "# peak_rss_mb M", is the process's peak
resident memory (one model and mode per process, so it is that step's peak).
"""
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "tools"))
from zoo_torch_models import zoo_model  # noqa: E402

name = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
mode = sys.argv[4] if len(sys.argv) > 4 else "eager"
assert mode in ("eager", "channels_last", "compile"), f"unknown mode {mode}"
torch.set_num_threads(threads)
torch.manual_seed(0)
B = 64
canon, model = zoo_model(name)
lr = 0.01 if canon in ("MobileNetV2", "ShuffleV1", "ShuffleV2") else 0.05
x = torch.randn(B, 3, 32, 32)
y = torch.randint(0, 100, (B,))
if mode == "channels_last":
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
fwd = torch.compile(model) if mode == "compile" else model
opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)


def timeit(fn):
    for _ in range(3):
        fn()
    ts = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return B / statistics.median(ts)


def train():
    opt.zero_grad()
    F.cross_entropy(fwd(x), y).backward()
    opt.step()


def infer():
    with torch.no_grad():
        fwd(x)


model.train()
res = {f"{canon}_train": timeit(train)}
model.eval()
res[f"{canon}_infer"] = timeit(infer)
print(f"# torch {torch.__version__} threads={threads} batch={B} steps={steps} mode={mode}")
for k, v in res.items():
    print(f"{k} {v:.1f} img/s")
print(f"# peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
