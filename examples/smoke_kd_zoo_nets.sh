#!/usr/bin/env bash
# ctest: kd_zoo on model-zoo networks and CIFAR-100 under RepDistiller's protocol, on a few hundred
# images (1 epoch per run): resnet8 from resnet14 with CE, KD and the feature losses that read
# RepDistiller's stages (FitNets, AT summed over stages, VID per stage, FSP over the sequence, CRD
# on the embeddings); every run reports a numeric accuracy in [0, 100]; --teacher-ckpt trains and
# saves the teacher once, and a second run loads it instead of training. Uses the CIFAR-100 copy
# prepared into the build tree (scripts/get-cifar100.sh); without ../shared beside the checkout and
# no copy there, there is no offline data: say so and pass.
# usage: smoke_kd_zoo_nets.sh SOURCE_DIR DATA_DIR KD_ZOO_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 zoo=$3 out=$4
if [ ! -f "$src/../shared/data/prepare_cifar100.sh" ] && [ ! -f "$data/test.bin" ]; then
  echo "WARNING: no CIFAR-100 copy (../shared/data absent): kd_zoo zoo-network smoke test not run"
  exit 0
fi
bash "$src/scripts/get-cifar100.sh" "$data" >/dev/null
rm -rf "$out"
mkdir -p "$out"
common=(--data "$data" --dataset cifar100 --teacher RESNET14 --student resnet8 --epochs 1 --teacher-epochs 1
        --train-limit 256 --test-limit 128 --crd-k 64 --threads 2 --teacher-ckpt "$out/teacher.safetensors")
losses="ce kd fitnet at vid fsp crd"
"$zoo" "${common[@]}" --loss "${losses// /,}" --out "$out/a" | tr '\r' '\n' > "$out/a.log" ||
  { cat "$out/a.log"; exit 1; }
# Only "--loss all" trains each loss as its own run; a comma list is one run with every term.
grep -q "SGD (RepDistiller protocol) lr 0.05, crop+flip" "$out/a.log"
grep -q "^kd_zoo: resnet8 from resnet14 on cifar100" "$out/a.log"
row=$(grep -E '^kd\+fitnet\+at\+vid\+fsp\+crd ' "$out/a.log" | tail -1)
[ -n "$row" ] || { echo "no table row for the combined run"; cat "$out/a.log"; exit 1; }
echo "$row" | awk '{ a = $(NF-3); b = $(NF-2); if (!(a >= 0 && a <= 100 && b >= 0 && b <= 100)) exit 1 }'
[ -s "$out/teacher.safetensors" ]
# The second run reuses the saved teacher.
"$zoo" "${common[@]}" --loss sp,rkd,pkt,cc,nst --out "$out/b" | tr '\r' '\n' > "$out/b.log" ||
  { cat "$out/b.log"; exit 1; }
grep -q "teacher loaded from $out/teacher.safetensors" "$out/b.log"
grep -E '^sp\+rkd\+pkt\+cc\+nst ' "$out/b.log"
echo "kd_zoo zoo networks: ok"
