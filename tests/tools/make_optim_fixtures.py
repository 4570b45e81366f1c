#!/usr/bin/python3
"""Writes the optimiser and LR-schedule fixtures under tests/fixtures/optim/ from PyTorch 1.13.

Run from anywhere with /usr/bin/python3 (torch 1.13):  /usr/bin/python3 tests/tools/make_optim_fixtures.py

Optimiser runs (replayed by tests/optim/test_sgd.cpp and test_adam.cpp through optim_replay.h):
two float64 parameters of shapes [3,4] and [5]; flat index k runs over both (0..11, then 12..16).
  initial value   p[k] = cos(0.7·k)
  gradient at step s = 1..10   g[k] = 0.3·p[k] + sin(s + k)   (p before the step)
except that parameter 1 gets no gradient (None) at step 4 and parameter 0 none at step 7, so the
"skip a parameter without grad" rule (and Adam's per-parameter step count) is covered.
Each file holds 11 lines: the 17 values after steps 0 (initial) to 10.

LR schedules (test_lr_scheduler.cpp): an SGD with two groups (lr 0.1 and 0.02); each line is
"<name> <group> lr_0 ... lr_30", lr_e being the group's lr after e scheduler steps.
"""
import math
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "optim")
SHAPES = [(3, 4), (5,)]
STEPS = 10
SKIP = {4: 1, 7: 0}  # step -> index of the parameter that gets no gradient


def initial_params(dtype):
    params, k = [], 0
    for shape in SHAPES:
        n = math.prod(shape)
        v = torch.tensor([math.cos(0.7 * (k + i)) for i in range(n)], dtype=torch.float64)
        params.append(v.reshape(shape).to(dtype).requires_grad_())
        k += n
    return params


def set_grads(params, step):
    k = 0
    for i, p in enumerate(params):
        n = p.numel()
        if SKIP.get(step) == i:
            p.grad = None
        else:
            idx = torch.arange(k, k + n, dtype=torch.float64)
            g = 0.3 * p.detach().double().reshape(-1) + torch.sin(step + idx)
            p.grad = g.reshape(p.shape).to(p.dtype)
        k += n


def flat(params):
    return torch.cat([p.detach().double().reshape(-1) for p in params]).tolist()


def run(make_opt, dtype=torch.float64):
    params = initial_params(dtype)
    opt = make_opt(params)
    rows = [flat(params)]
    for step in range(1, STEPS + 1):
        set_grads(params, step)
        opt.step()
        rows.append(flat(params))
    return rows


OPTIMISERS = {
    "sgd_nesterov": ("SGD(lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)",
                     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True)),
    "sgd_dampening": ("SGD(lr=0.1, momentum=0.9, dampening=0.3)",
                      lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd_plain": ("SGD(lr=0.05, weight_decay=1e-2, maximize=True)",
                  lambda ps: torch.optim.SGD(ps, lr=0.05, weight_decay=1e-2, maximize=True)),
    "sgd_groups": ("SGD([{params: [p0]}, {params: [p1], lr: 0.01, weight_decay: 0}], lr=0.1, momentum=0.5, weight_decay=1e-2)",
                   lambda ps: torch.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.01, "weight_decay": 0.0}],
                                              lr=0.1, momentum=0.5, weight_decay=1e-2)),
    "adam": ("Adam(lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)",
             lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)),
    "adamw": ("AdamW(lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)",
              lambda ps: torch.optim.AdamW(ps, lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)),
    "adam_amsgrad": ("Adam(lr=0.05, betas=(0.8, 0.9), eps=1e-6, amsgrad=True, maximize=True)",
                     lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.9), eps=1e-6, amsgrad=True, maximize=True)),
    "adamw_amsgrad": ("AdamW(lr=0.02, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)",
                      lambda ps: torch.optim.AdamW(ps, lr=0.02, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
}


def write_optimisers():
    for name, (desc, make) in OPTIMISERS.items():
        rows = run(make)
        rows32 = run(make, torch.float32)
        dev = max(abs(a - b) for r, r32 in zip(rows, rows32) for a, b in zip(r, r32))
        print(f"{name}: float32 vs float64 max deviation {dev:.2e}")
        with open(os.path.join(OUT, name + ".txt"), "w") as f:
            f.write(f"# torch {torch.__version__} {desc}, float64; see tests/tools/make_optim_fixtures.py\n")
            for r in rows:
                f.write(" ".join(repr(v) for v in r) + "\n")


def schedules(opt):
    S = torch.optim.lr_scheduler
    return {
        "step": lambda: S.StepLR(opt, step_size=7, gamma=0.5),
        "multistep": lambda: S.MultiStepLR(opt, milestones=[5, 12, 20], gamma=0.3),
        "cosine": lambda: S.CosineAnnealingLR(opt, T_max=10, eta_min=1e-3),
        "cosine_nomin": lambda: S.CosineAnnealingLR(opt, T_max=25),
        "warmup": lambda: S.LinearLR(opt, start_factor=0.1, total_iters=5),
        "warmup_cosine": lambda: S.SequentialLR(
            opt, [S.LinearLR(opt, start_factor=0.1, total_iters=5),
                  S.CosineAnnealingLR(opt, T_max=20, eta_min=1e-4)], milestones=[5]),
        "warmup_step": lambda: S.SequentialLR(
            opt, [S.LinearLR(opt, start_factor=0.25, total_iters=4),
                  S.StepLR(opt, step_size=6, gamma=0.5)], milestones=[4]),
    }


def write_schedules():
    import warnings
    warnings.simplefilter("ignore")  # SequentialLR's step(0) is deprecated API, used internally
    lines = []
    for name in schedules(None):
        p = torch.zeros(1, requires_grad=True)
        q = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.02}], lr=0.1)
        sched = schedules(opt)[name]()
        seq = [[g["lr"]] for g in opt.param_groups]
        for _ in range(30):
            opt.step()
            sched.step()
            for i, g in enumerate(opt.param_groups):
                seq[i].append(g["lr"])
        for i, s in enumerate(seq):
            lines.append(f"{name} {i} " + " ".join(repr(v) for v in s))
    with open(os.path.join(OUT, "lr_schedules.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}: <name> <group> lr after 0..30 scheduler steps; "
                "see tests/tools/make_optim_fixtures.py\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_optimisers()
    write_schedules()
