#!/usr/bin/env bash
# ctest: kd_datafree end to end on a few hundred CIFAR-10 images (--smoke). Run 1 trains the teacher
# on the training split, saves it, distils a student by DeepInversion and trains the data-driven KD
# baseline: the table and CSV hold the four rows with accuracies in [0, 100], and the per-class PNG
# grid decodes (Python's zlib) to 10 rows of 8 images. Run 2 is the data-free claim: DAFL with that
# teacher checkpoint and --baseline none on a folder that holds test_batch.bin and nothing else —
# it must succeed, load the teacher and report that the training split was never opened. Bad flags
# are usage errors (exit 2). Without ../shared beside the checkout there is no offline data: say so
# and pass.
# usage: smoke_kd_datafree.sh SOURCE_DIR DATA_DIR KD_DATAFREE_BINARY OUT_DIR
set -euo pipefail
src=$1 data=$2 prog=$3 out=$4
source "$src/examples/smoke_data.sh"
smoke_data "$src" "$data" kd_datafree || exit 0
rm -rf "$out"
mkdir -p "$out/testonly"

"$prog" --smoke --method inversion --data "$data" --teacher-ckpt "$out/teacher.safetensors" --out "$out/a" \
  --threads 2 | tr '\r' '\n' > "$out/a.log"
grep -q "data-free phase done: the training split was not opened (loaded 1 time(s) before it, 0 during)" "$out/a.log"
csv="$out/a/datafree.csv"
[ "$(head -1 "$csv")" = "run,training data,last acc,best acc,train time,img/s" ]
[ "$(tail -n +2 "$csv" | cut -d, -f1 | tr '\n' '|')" = \
  "teacher resnet8|student random init|student inversion|student data-driven KD|" ] || { cat "$csv"; exit 1; }
awk -F, 'NR > 1 { for (i = 3; i <= 4; i++) if ($i !~ /^[0-9]+\.[0-9]+$/ || $i + 0 > 100) { print "bad accuracy " $i; exit 1 } }' "$csv"
tail -n +2 "$csv" | cut -d, -f1 | while IFS= read -r label; do grep -qF -- "$label" "$out/a.log"; done
# The grid: 10 class rows × 8 images of 32 px with 2 px padding, RGB, every chunk's CRC right.
/usr/bin/python3 - "$out/a/images_inversion.png" <<'PY'
import struct, sys, zlib
f = open(sys.argv[1], "rb").read()
assert f[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
at, idat, ihdr = 8, b"", None
while at < len(f):
    n, kind = struct.unpack(">I4s", f[at:at + 8])
    body = f[at + 4:at + 8 + n]
    assert struct.unpack(">I", f[at + 8 + n:at + 12 + n])[0] == zlib.crc32(body), kind
    if kind == b"IHDR": ihdr = struct.unpack(">IIBBBBB", body[4:])
    if kind == b"IDAT": idat += body[4:]
    at += 12 + n
w, h, depth, colour = ihdr[:4]
assert (w, h, depth, colour) == (8 * 34 + 2, 10 * 34 + 2, 8, 2), ihdr
assert len(zlib.decompress(idat)) == h * (w * 3 + 1)
PY

# The data-free claim: no training file in the folder, the saved teacher, no baseline.
ln -s "$(cd "$data" && pwd)/test_batch.bin" "$out/testonly/test_batch.bin"
"$prog" --smoke --method dafl --baseline none --data "$out/testonly" --teacher-ckpt "$out/teacher.safetensors" \
  --out "$out/b" --threads 2 | tr '\r' '\n' > "$out/b.log"
grep -q "teacher loaded from $out/teacher.safetensors" "$out/b.log"
grep -q "data-free phase done: the training split was not opened (loaded 0 time(s) before it, 0 during)" "$out/b.log"
[ "$(tail -n +2 "$out/b/datafree.csv" | cut -d, -f1 | tr '\n' '|')" = "teacher resnet8|student random init|student dafl|" ]
[ -s "$out/b/images_dafl.png" ]

# Bad flags: usage errors before any data is read.
bad() {
  local pattern=$1; shift
  local rc=0
  "$prog" --data "$out/nowhere" "$@" > "$out/bad.log" 2>&1 || rc=$?
  if [ "$rc" != 2 ] || ! grep -qE -- "$pattern" "$out/bad.log"; then
    echo "expected exit 2 and /$pattern/ for $*, got exit $rc:"; cat "$out/bad.log"; exit 1
  fi
}
bad "--method 'nope': inversion, dafl or all" --method nope
bad "--baseline 'x': kd or none" --baseline x
bad "--di-iters: '0' is not a positive integer" --di-iters 0
bad "--gen-width must be even" --gen-width 7
bad "--dafl-iters 3 is fewer than --epochs 4" --method dafl --dafl-iters 3 --epochs 4
bad "--batch: 'abc' is not a positive integer" --batch abc
bad "unknown|resnet9" --teacher resnet9
"$prog" --help | grep -q "^usage: kd_datafree"
echo "kd_datafree smoke test passed"
