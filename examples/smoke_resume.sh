#!/usr/bin/env bash
# ctest: resumable training. Each program runs once uninterrupted and once killed with SIGKILL at
# random moments (some land while a checkpoint is being written) and resumed with --resume until
# it finishes; the two must end with the same bytes in every tensor of every run's final
# checkpoint (model, loss modules, optimiser state) and the same metrics CSV apart from its
# wall-clock columns. Runs: cifar10_kd with augmentation (teacher, CE student, KD student: data
# order, augmentation and dropout streams), and kd_zoo with a feature loss and CRD (a hint
# regressor, memory banks and the negative sampler's generator). Then: a damaged checkpoint and a
# resume with other settings are refused with the reason, and --resume is needed to reuse a dir.
# usage: smoke_resume.sh SOURCE_DIR DATA_DIR CIFAR10_KD KD_ZOO OUT_DIR
set -euo pipefail
src=$1 data=$2 kd=$3 zoo=$4 out=$5
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" resume || exit 0
rm -rf "$out"
mkdir -p "$out"
RANDOM=7  # reproducible kill times

# run NAME DIR CMD...: CMD with --checkpoint-dir DIR, uninterrupted
run_plain() {
  local dir=$1; shift
  "$@" --checkpoint-dir "$dir" > "$dir.log" 2>&1
}
# run_killed DIR CMD...: CMD with --checkpoint-dir DIR --resume, killed with SIGKILL a random
# 0–0.3 s after a checkpoint write (so the kills land between and during writes; always after
# the first checkpoint of each run, so every run is resumed mid-epoch at least once, and after
# the first write each attempt sees until 3 kills have landed; then after a random one of the
# writes), relaunched until an attempt finishes (at most 10 kills). The log must show at
# least 3 resumes, one of them mid-epoch.
run_killed() {
  local dir=$1; shift
  local kills=0 attempt
  seen_names=""
  mkdir -p "$dir"
  for attempt in $(seq 1 40); do
    "$@" --checkpoint-dir "$dir" --resume >> "$dir.log" 2>&1 &
    local pid=$!
    if [ "$kills" -lt 10 ]; then
      # Watch the checkpoint writes; after each, kill (always while fewer than 3 kills have
      # landed, so a fast run cannot slip through with too few; then with probability 1/3, so
      # the kills spread over all the runs of the program).
      local before after names
      before=$(ls -l --time-style=+%s.%N "$dir" 2>/dev/null | md5sum)
      while kill -0 "$pid" 2>/dev/null; do
        after=$(ls -l --time-style=+%s.%N "$dir" 2>/dev/null | md5sum)
        if [ "$after" != "$before" ]; then
          before=$after
          names=$(ls "$dir" | grep '\.ckpt$' || true)
          # the first checkpoint of a run is always followed by a kill: every run is resumed
          [ "$names" != "${seen_names:-}" ] && { seen_names=$names; break; }
          { [ "$kills" -lt 3 ] || [ $((RANDOM % 3)) -eq 0 ]; } && break
        fi
        sleep 0.05
      done
      sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
      if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        kills=$((kills + 1))
        continue
      fi
    fi
    if wait "$pid"; then
      local resumes mid
      resumes=$(grep -c "resumed from" "$dir.log" || true)
      mid=$(grep -c "resumed from .*batch [1-9]" "$dir.log" || true)
      echo "$dir: finished after $kills kills, $resumes resumes ($mid mid-epoch)"
      [ "$kills" -ge 3 ] && [ "$resumes" -ge 3 ] && [ "$mid" -ge 1 ] ||
        { echo "too few kills or resumes landed: the test proved nothing"; exit 1; }
      return 0
    fi
    echo "attempt $attempt failed:"; tail -5 "$dir.log"; exit 1
  done
  echo "no attempt finished"; exit 1
}

# same_tensors A.ckpt B.ckpt: every tensor byte-identical (safetensors read with the stdlib).
same_tensors() {
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
def read(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n]); d = b[8 + n:]
    h.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], d[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in h.items()}
a, b = read(sys.argv[1]), read(sys.argv[2])
assert a.keys() == b.keys(), "different tensors"
diff = [k for k in a if a[k] != b[k]]
assert not diff, "tensors differ: %s" % diff[:5]
print("%s: %d tensors identical" % (sys.argv[2], len(a)))
PY
}
# csv without the seconds and images_per_second columns
metrics() { cut -d, -f1-5 "$1"; }

common="--data $data --train-limit 512 --test-limit 200 --batch 64 --threads 2 --checkpoint-every 3"
run_plain "$out/kd_a" "$kd" $common --teacher-epochs 2 --student-epochs 2 --augment --out "$out/kd_out_a"
run_killed "$out/kd_b" "$kd" $common --teacher-epochs 2 --student-epochs 2 --augment --out "$out/kd_out_b"
for r in teacher student kd_student; do same_tensors "$out/kd_a/$r.ckpt" "$out/kd_b/$r.ckpt"; done
diff <(metrics "$out/kd_out_a/metrics.csv") <(metrics "$out/kd_out_b/metrics.csv")

zoo_args="--loss ce,fitnet,crd --crd-k 64 --epochs 2 --teacher-epochs 1"
run_plain "$out/zoo_a" "$zoo" $common $zoo_args --out "$out/zoo_out_a"
run_killed "$out/zoo_b" "$zoo" $common $zoo_args --out "$out/zoo_out_b"
for r in teacher fitnet+crd; do same_tensors "$out/zoo_a/$r.ckpt" "$out/zoo_b/$r.ckpt"; done
diff <(metrics "$out/zoo_out_a/metrics.csv") <(metrics "$out/zoo_out_b/metrics.csv")
diff <(cut -d, -f1-4 "$out/zoo_out_a/zoo.csv") <(cut -d, -f1-4 "$out/zoo_out_b/zoo.csv")

# A reused directory needs --resume; other settings and a damaged file are refused.
if "$kd" $common --teacher-epochs 2 --student-epochs 2 --checkpoint-dir "$out/kd_a" > "$out/reuse.log" 2>&1; then
  echo "a directory with checkpoints was reused without --resume"; exit 1
fi
grep -q "already holds checkpoints" "$out/reuse.log"
if "$kd" $common --teacher-epochs 2 --student-epochs 2 --augment --lr 0.01 --checkpoint-dir "$out/kd_a" --resume \
     > "$out/other.log" 2>&1; then
  echo "a checkpoint was resumed with another lr"; exit 1
fi
grep -q "written for other settings: lr" "$out/other.log"
cp -r "$out/kd_a" "$out/kd_bad"
python3 - "$out/kd_bad/student.ckpt" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-3] ^= 0x40; open(p, "wb").write(b)
PY
if "$kd" $common --teacher-epochs 2 --student-epochs 2 --augment --checkpoint-dir "$out/kd_bad" --resume \
     > "$out/bad.log" 2>&1; then
  echo "a damaged checkpoint was resumed"; exit 1
fi
grep -q "checksum mismatch" "$out/bad.log"
echo "resume smoke test passed"
