#!/usr/bin/python3
"""Runs the PyTorch peer of the seed experiment (../shared/bench/torch_seed_kd.py) with another seed.

The peer script seeds every model with torch.manual_seed(42); for the multi-seed comparison in
docs/results.md this wrapper runs that script unchanged, with torch.manual_seed(42) mapped to
torch.manual_seed(SEED) (every other seed value passes through).
usage: peer_seed_kd.py SEED CIFAR_BIN_DIR [teacher_epochs] [student_epochs]
       (PEER_KD overrides the peer script's path)
"""
import os
import runpy
import sys

import torch

seed = int(sys.argv[1])
here = os.path.dirname(os.path.abspath(__file__))
peer = os.environ.get("PEER_KD", os.path.join(here, "..", "..", "shared", "bench", "torch_seed_kd.py"))
if not os.path.isfile(peer):
    sys.exit(f"peer_seed_kd.py: no peer script at {peer} (set PEER_KD)")
_manual_seed = torch.manual_seed
torch.manual_seed = lambda s: _manual_seed(seed if s == 42 else s)
sys.argv = [peer] + sys.argv[2:]
sys.path.insert(0, os.path.dirname(peer))
print(f"peer_seed_kd: {peer} with seed {seed}", flush=True)
runpy.run_path(peer, run_name="__main__")
