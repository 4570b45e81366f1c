#!/usr/bin/python3
"""The PyTorch peer of `kd_zoo` on model-zoo networks: the same protocol on the same data files, for
the short-schedule comparison in docs/studies.md. Run with Debian's PyTorch (/usr/bin/python3).

usage: peer_zoo.py --data DIR [--dataset cifar10|cifar100] --teacher NAME --student NAME
                   [--loss ce,kd,at] [--teacher-epochs E] [--epochs E] [--train-limit N]
                   [--test-limit N] [--batch 64] [--seed S] [--no-augment] [--threads 2]
                   [--teacher-ckpt F.pt|F.safetensors] [--csv FILE]
The protocol is kd_zoo's `--protocol repdistiller`: SGD momentum 0.9, weight decay 5e-4, lr 0.05
(0.01 for MobileNetV2/ShuffleV1/ShuffleV2) x0.1 after the epochs at 150/240, 180/240, 210/240 of the
run (rounded down), batch 64, RandomCrop(32, 4) + horizontal flip unless --no-augment, the
dataset's mean/std (CIFAR-100's own; ImageNet's for CIFAR-10, as kd_zoo), the first N records of
each split; without augmentation the teacher's outputs are computed once (exact, as kd_zoo's
cache). Losses (RepDistiller's train_student.py weights): ce = CE; kd = 0.1 CE + 0.9 KL(T=4)·T²;
at = CE + 1000·Σ_stages AT(p=2) over feat[1:-1]. Prints one CSV line per run: run,last,best,seconds.
--teacher-ckpt F loads the teacher from F when it exists (a .safetensors file, e.g. one kd_zoo saved,
so both frameworks distil from the very same teacher; or a torch .pt), else trains it and saves it.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
from zoo_torch_models import zoo_model  # noqa: E402

MEAN_STD = {"cifar100": ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)),
            "cifar10": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))}


def read_split(d, dataset, train, limit):
    if dataset == "cifar100":
        files, rec, lab = (["train.bin"] if train else ["test.bin"]), 3074, 1
    else:
        files = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        rec, lab = 3073, 0
    raw = np.concatenate([np.fromfile(os.path.join(d, f), dtype=np.uint8).reshape(-1, rec) for f in files])
    if limit > 0:
        raw = raw[:limit]
    x = torch.from_numpy(raw[:, rec - 3072:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0)
    y = torch.from_numpy(raw[:, lab].astype(np.int64))
    return x, y


def normalize(x, dataset):
    m, s = MEAN_STD[dataset]
    return (x - torch.tensor(m).view(1, 3, 1, 1)) / torch.tensor(s).view(1, 3, 1, 1)


def augment(x):
    n = x.shape[0]
    p = F.pad(x, (4, 4, 4, 4))
    out = torch.empty_like(x)
    ij = torch.randint(0, 9, (n, 2))
    flip = torch.rand(n) < 0.5
    for k in range(n):
        i, j = ij[k].tolist()
        img = p[k, :, i:i + 32, j:j + 32]
        out[k] = img.flip(2) if flip[k] else img
    return out


def load_safetensors(path):
    """A safetensors file (Retort's save_safetensors) as a state dict, read with numpy."""
    import json
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    kinds = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(blob[a:b], dtype=kinds[v["dtype"]]).reshape(v["shape"]).copy())
    return out


def lr_at(base, epoch, epochs):
    return base * 0.1 ** sum(epoch > m * epochs // 240 for m in (150, 180, 210))


def at_map(f):
    return F.normalize(f.pow(2).mean(1).view(f.size(0), -1))


def evaluate(model, x, y, dataset):
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(y), 128):
            correct += (model(normalize(x[s:s + 128], dataset)).argmax(1) == y[s:s + 128]).sum().item()
    model.train()
    return 100.0 * correct / len(y)


def teacher_outputs(teacher, x, dataset):
    """The teacher's features and logits for every training image (eval mode, no grad): exact
    without augmentation, as kd_zoo's teacher cache."""
    fs, outs = [], []
    with torch.no_grad():
        for s in range(0, len(x), 128):
            f, o = teacher(normalize(x[s:s + 128], dataset), is_feat=True)
            fs.append(f)
            outs.append(o)
    return [torch.cat([f[i] for f in fs]) for i in range(len(fs[0]))], torch.cat(outs)


def train(a, name, model, lr, epochs, data, loss, teacher=None, cache=None):
    xtr, ytr, xte, yte = data
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    best, last, secs = 0.0, 0.0, 0.0
    model.train()
    for e in range(1, epochs + 1):
        for g in opt.param_groups:
            g["lr"] = lr_at(lr, e, epochs)
        t0 = time.time()
        perm = torch.randperm(len(ytr))
        for s in range(0, len(ytr), a.batch):
            idx = perm[s:s + a.batch]
            xb = xtr[idx]
            xb = normalize(augment(xb) if not a.no_augment else xb, a.dataset)
            yb = ytr[idx]
            feats, out = model(xb, is_feat=True)
            ce = F.cross_entropy(out, yb)
            if loss == "ce":
                total = ce
            else:
                if cache is not None:
                    tf, tout = [f[idx] for f in cache[0]], cache[1][idx]
                else:
                    with torch.no_grad():
                        tf, tout = teacher(xb, is_feat=True)
                if loss == "kd":
                    T = 4.0
                    kl = F.kl_div(F.log_softmax(out / T, 1), F.softmax(tout / T, 1), reduction="sum") * T * T / len(yb)
                    total = 0.1 * ce + 0.9 * kl
                elif loss == "at":
                    at = sum((at_map(fs) - at_map(ft)).pow(2).mean() for fs, ft in zip(feats[1:-1], tf[1:-1]))
                    total = ce + 1000.0 * at
                else:
                    raise SystemExit(f"peer_zoo: loss {loss!r} is not transcribed here (ce, kd, at)")
            opt.zero_grad()
            total.backward()
            opt.step()
        secs += time.time() - t0
        last = evaluate(model, xte, yte, a.dataset)
        best = max(best, last)
        print(f"{name} epoch {e}/{epochs} test_acc {last:.2f}% ({time.time() - t0:.0f} s)", flush=True)
    return last, best, secs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--dataset", default="cifar100", choices=["cifar10", "cifar100"])
    p.add_argument("--teacher", required=True)
    p.add_argument("--student", required=True)
    p.add_argument("--loss", default="ce,kd,at")
    p.add_argument("--teacher-epochs", type=int, default=240)
    p.add_argument("--epochs", type=int, default=240)
    p.add_argument("--train-limit", type=int, default=-1)
    p.add_argument("--test-limit", type=int, default=-1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--teacher-ckpt", default="")
    p.add_argument("--csv", default="")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    classes = 100 if a.dataset == "cifar100" else 10
    xtr, ytr = read_split(a.data, a.dataset, True, a.train_limit)
    xte, yte = read_split(a.data, a.dataset, False, a.test_limit)
    data = (xtr, ytr, xte, yte)
    base = lambda n: 0.01 if n in ("MobileNetV2", "ShuffleV1", "ShuffleV2") else 0.05  # noqa: E731
    torch.manual_seed(a.seed)
    tname, teacher = zoo_model(a.teacher, classes)
    rows = []
    if a.teacher_ckpt and os.path.exists(a.teacher_ckpt):
        sd = load_safetensors(a.teacher_ckpt) if a.teacher_ckpt.endswith(".safetensors") else torch.load(a.teacher_ckpt)
        teacher.load_state_dict(sd)
        acc = evaluate(teacher, xte, yte, a.dataset)
        rows.append(("teacher", acc, acc, 0.0))
    else:
        rows.append(("teacher",) + train(a, "teacher", teacher, base(tname), a.teacher_epochs, data, "ce"))
        if a.teacher_ckpt:
            torch.save(teacher.state_dict(), a.teacher_ckpt)
    teacher.eval()
    cache = teacher_outputs(teacher, xtr, a.dataset) if a.no_augment else None
    for loss in a.loss.split(","):
        torch.manual_seed(a.seed)
        sname, student = zoo_model(a.student, classes)
        rows.append((loss,) + train(a, loss, student, base(sname), a.epochs, data, loss, teacher, cache))
    out = "run,last,best,seconds\n" + "".join(f"{r[0]},{r[1]:.2f},{r[2]:.2f},{r[3]:.1f}\n" for r in rows)
    print(out, end="")
    if a.csv:
        with open(a.csv, "w") as f:
            f.write(out)


if __name__ == "__main__":
    main()
