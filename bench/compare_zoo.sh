#!/usr/bin/env bash
# Retort against PyTorch 2.x on the model zoo, back to back on this machine: for each model, one
# `retort_bench --model M` process and one bench/peer/torch_zoo.py process per PyTorch mode (eager,
# channels_last, compile), `rounds` times (interleaved); prints images/s (median of rounds), the
# ratio against the best PyTorch mode, the range of that ratio over the rounds (each round's Retort
# figure over that round's best mode), and peak RSS in MB (median of rounds) of Retort and of the
# best mode's process.
# usage: bench/compare_zoo.sh [threads] [steps] [rounds] [MODEL,MODEL,...]
#   default models: resnet8x4,resnet32x4,wrn_40_2,vgg13,MobileNetV2,ShuffleV2
#   PyTorch comes from bench/peer/setup.sh's venv (installed on first use); TORCH_PY overrides it,
#   MODES="eager channels_last" drops modes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
threads=${1:-2}
steps=${2:-10}
rounds=${3:-3}
models=${4:-resnet8x4,resnet32x4,wrn_40_2,vgg13,MobileNetV2,ShuffleV2}
modes=${MODES:-eager channels_last compile}
bench=${RETORT_BENCH:-$here/build/bench/retort_bench}
[ -x "$bench" ] || { echo "compare_zoo: $bench not built (cmake --build build --target retort_bench)" >&2; exit 1; }
py=${TORCH_PY:-$("$here/bench/peer/setup.sh" | tail -1)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Records: SIDE MODEL METRIC VALUE ROUND, METRIC = train | infer (img/s) | rss (MB).
record() {
  awk -v s="$1" -v m="$2" -v r="$r" '/img\/s/ {k = $1; sub(/.*_/, "", k); print s, m, k, $2, r}
                                      /peak_rss_mb/ {print s, m, "rss", $3, r}' "$tmp/out" >>"$tmp/all"
}
for r in $(seq "$rounds"); do
  for m in ${models//,/ }; do
    OMP_NUM_THREADS=$threads "$bench" --threads "$threads" --steps "$steps" --model "$m" >"$tmp/out"
    record retort "$m"
    for mode in $modes; do
      if OMP_NUM_THREADS=$threads "$py" "$here/bench/peer/torch_zoo.py" "$m" "$threads" "$steps" "$mode" >"$tmp/out" 2>"$tmp/err"; then
        record "$mode" "$m"
      else
        echo "compare_zoo: torch $m $mode failed:" >&2; tail -5 "$tmp/err" >&2
      fi
    done
  done
done
echo "threads=$threads steps=$steps rounds=$rounds batch=64; $("$py" -c 'import torch; print("torch", torch.__version__)')"
python3 - "$tmp/all" "$modes" <<'PY'
import statistics, sys
recs = [l.split() for l in open(sys.argv[1])]
modes = sys.argv[2].split()
def vals(side, m, k):
    return {r[4]: float(r[3]) for r in recs if r[0] == side and r[1] == m and r[2] == k}
def med(side, m, k):
    v = list(vals(side, m, k).values())
    return statistics.median(v) if v else float("nan")
def spread(m, w):
    # Each round's Retort figure over that round's best PyTorch mode.
    ours, peer = vals("retort", m, w), {}
    for mode in modes:
        for rnd, v in vals(mode, m, w).items():
            peer[rnd] = max(peer.get(rnd, 0.0), v)
    q = [ours[rnd] / peer[rnd] for rnd in ours if peer.get(rnd)]
    return f"{min(q):.2f}-{max(q):.2f}" if q else "-"

models = list(dict.fromkeys(r[1] for r in recs))
print(f"{'workload':22s} {'retort':>9s} " + " ".join(f"{m:>13s}" for m in modes)
      + f" {'ratio':>7s} {'rounds':>9s} {'best':14s} {'rss_retort':>10s} {'rss_best':>9s}")
for m in models:
    for w in ("train", "infer"):
        r = med("retort", m, w)
        peers = {mode: med(mode, m, w) for mode in modes}
        ok = {k: v for k, v in peers.items() if v == v}
        best = max(ok, key=ok.get) if ok else None
        ratio = r / ok[best] if best else float("nan")
        print(f"{m + '_' + w:22s} {r:9.1f} " + " ".join(f"{peers[k]:13.1f}" for k in modes)
              + f" {ratio:6.2f}x {spread(m, w):>9s} {best or '-':14s} {med('retort', m, 'rss'):10.0f}"
              + f" {med(best, m, 'rss') if best else float('nan'):9.0f}")
PY
