#!/usr/bin/env bash
# Installs the speed peer — PyTorch 2.x from PyPI (with its CUDA wheels, ≈ 5 GB) — into a virtual
# environment of its own, never system-wide (Debian's python3-torch 1.13 stays the fixture
# generator). Prints the venv's python on its last line.
# usage: bench/peer/setup.sh [VENV_DIR]   (default: $RETORT_PEER_VENV or ~/.cache/retort/torch2-venv)
set -euo pipefail
venv=${1:-${RETORT_PEER_VENV:-$HOME/.cache/retort/torch2-venv}}
want=${RETORT_PEER_TORCH:-torch>=2.4}
py=$(command -v python3)
if [ ! -x "$venv/bin/python" ]; then
  if ! "$py" -m venv --help >/dev/null 2>&1; then
    apt-get install -y -qq python3-venv >/dev/null
    py=/usr/bin/python3
  fi
  "$py" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import torch, sys; sys.exit(int(torch.__version__.split(".")[0]) < 2)' 2>/dev/null; then
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q "$want" numpy
fi
"$venv/bin/python" -c 'import torch; print("peer: torch", torch.__version__)' >&2
echo "$venv/bin/python"
