#!/usr/bin/python3
"""Seed corpora for the libFuzzer targets in tests/fuzz/ (standard library only, deterministic).

Run from anywhere:  /usr/bin/python3 tests/tools/make_fuzz_corpus.py
Rewrites tests/fuzz/corpus/<target>/: a few small valid inputs (so the fuzzer starts from files
the readers accept) and edge cases next to them (truncations, bad magic or labels, empty input).
The whole corpus stays far below 200 KB; libFuzzer adds what it finds to a copy, never here.
"""
import gzip
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- safetensors: [u64 header length][JSON header][data], tensors tiling the data exactly.
def safetensors(tensors, metadata=None, pad=0):
    """tensors: list of (name, dtype, shape, raw bytes), laid out in that order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode() + b" " * pad
    return struct.pack("<Q", len(h)) + h + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def f64(*v):
    return struct.pack("<%dd" % len(v), *v)


def i64(*v):
    return struct.pack("<%dq" % len(v), *v)


def make_safetensors():
    linear = safetensors([("weight", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)), ("bias", "F32", [2], f32(-1, 1))])
    put("safetensors", "linear_3_2", linear)
    put("safetensors", "dtypes_metadata",
        safetensors([("a", "F64", [2], f64(0.5, -2)), ("n", "I64", [1, 2], i64(7, -7)), ("s", "F32", [], f32(3))],
                    metadata={"format": "pt", "epoch": "3"}, pad=5))
    put("safetensors", "zero_sized", safetensors([("e", "F32", [0, 3], b""), ("x", "F32", [1], f32(1))]))
    put("safetensors", "empty_header", safetensors([]))
    put("safetensors", "truncated", linear[:-3])
    put("safetensors", "header_too_long", struct.pack("<Q", 1 << 40) + linear[8:])
    h = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    put("safetensors", "overlap", struct.pack("<Q", len(h)) + h + f32(1))
    put("safetensors", "short", b"\x02\x00\x00")
    # Known reader defect (docs/reliability.md): the strides of an empty tensor overflow.
    put("safetensors", "empty_shape_overflow",
        safetensors([("z", "F32", [0, 1 << 62, 4], b"")]))


# ---- CIFAR-10: 3073-byte records, 1 label byte (0..9) then 3072 pixel bytes (R, G, B planes).
def record(label, seed):
    return bytes([label]) + bytes((seed * 31 + k * 7 + 3) % 256 for k in range(3072))


def make_cifar10():
    put("cifar10", "one_record", record(3, 0))
    put("cifar10", "two_records", record(0, 1) + record(9, 2))
    put("cifar10", "bad_label", record(10, 3))
    put("cifar10", "truncated_record", record(1, 4) + record(2, 5)[:100])
    put("cifar10", "empty", b"")


# ---- CIFAR-100: 3074-byte records, coarse label (0..19), fine label (0..99), then 3072 pixel bytes.
def record100(coarse, fine, seed):
    return bytes([coarse]) + record(fine, seed)


def make_cifar100():
    put("cifar100", "one_record", record100(13, 79, 0))
    put("cifar100", "two_records", record100(0, 4, 1) + record100(19, 99, 2))
    put("cifar100", "bad_fine_label", record100(3, 100, 3))
    put("cifar100", "bad_coarse_label", record100(20, 5, 4))
    put("cifar100", "truncated_record", record100(1, 2, 5) + record100(2, 3, 6)[:100])
    put("cifar100", "empty", b"")


# ---- IDX: big-endian u32 magic 0x0000080D (D dimensions), D u32 dims, then the bytes.
def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def make_idx():
    images = idx(2051, [2, 2, 3], range(12))
    labels = idx(2049, [3], [7, 0, 9])
    put("idx", "images_2x2x3", images)
    put("idx", "labels_3", labels)
    put("idx", "images_gz", gzip.compress(images, mtime=0))
    put("idx", "labels_gz", gzip.compress(labels, mtime=0))
    put("idx", "truncated_data", images[:-5])
    put("idx", "truncated_header", images[:9])
    put("idx", "gz_cut", gzip.compress(images, mtime=0)[:-6])
    put("idx", "bad_magic", idx(2052, [1, 1, 1, 1], [5]))
    # Known reader defects (docs/reliability.md): dimensions whose product overflows int64, and a
    # header declaring 4 GB in a 16-byte file.
    put("idx", "dims_overflow", idx(2051, [0, 0xFFAAFFFF, 0xFF000200], []))
    put("idx", "huge_declared", idx(2051, [1, 0x10000, 0x10000], []))


# ---- flags: argv[1..], one per line.
def make_flags():
    lines = {
        "typical": ["--data", "/tmp/cifar", "--epochs", "3", "--seed", "42", "--lr", "0.05", "--augment"],
        "all_kinds": ["temperature", "--limit", "-1", "--full", "--both", "7", "--data", ""],
        "bad_number": ["--epochs", "12abc", "--lr", "1e400"],
        "missing_value": ["--seed"],
        "negative_seed": ["--seed", "-3"],
        "two_positionals": ["weights", "epochs"],
        "help": ["--help"],
    }
    for name, args in lines.items():
        put("flags", name, "\n".join(args).encode())


# ---- training checkpoints (nn/checkpoint.h): the first byte picks the target's path (even: a
# checkpoint for load_checkpoint, odd: a safetensors file for the state readers directly).
def checkpoint_file(tensors, values):
    """A checkpoint with a valid CRC-32 as nn::checkpoint_checksum computes it."""
    import zlib
    dtype_names = {"F32": "float32", "F64": "float64", "I64": "int64"}
    crc = 0
    def add(b):
        nonlocal crc
        crc = zlib.crc32(b, crc)
    for name, dtype, shape, raw in sorted(tensors):
        for text in (name, dtype_names[dtype], "[" + ",".join(str(d) for d in shape) + "]"):
            add(text.encode() + b"\0")
        add(raw)
    for k in sorted(values):
        add(k.encode() + b"\0")
        add(values[k].encode() + b"\0")
    meta = dict(values, format="retort.checkpoint", version="1", checksum="0x%08x" % crc)
    return safetensors(tensors, metadata=meta)


def make_checkpoint():
    adam = [("optim.state.0.0.0", "F32", [2, 3], f32(*[0.1] * 6)), ("optim.state.0.0.1", "F32", [2, 3], f32(*[0.2] * 6)),
            ("optim.state.0.1.0", "F32", [2], f32(0.3, 0.4)), ("optim.state.0.1.1", "F32", [2], f32(0.5, 0.6))]
    cache = [("distiller.cache.index", "I64", [2], i64(3, 7)), ("distiller.cache.logits", "F32", [2, 1, 2], f32(1, 2, 3, 4))]
    values = {"optim.name": "Adam", "optim.steps": "1", "optim.groups": "1", "optim.group.0.params": "2",
              "optim.group.0.lr": "0x1.999999999999ap-4", "optim.state.0.0.step": "1", "optim.state.0.0.buffers": "2",
              "optim.state.0.1.step": "1", "optim.state.0.1.buffers": "2", "distiller.step": "5", "distiller.cache": "1",
              "rng": " ".join(["5489"] * 312) + " 312"}
    put("checkpoint", "valid", b"\0" + checkpoint_file(adam + cache, values))
    put("checkpoint", "readers", b"\1" + safetensors(adam + cache, metadata=values))
    put("checkpoint", "bad_checksum", b"\0" + checkpoint_file(adam, values)[:-1] + b"\x7f")
    put("checkpoint", "foreign", b"\0" + safetensors(adam, metadata={"format": "pt"}))


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    make_safetensors()
    make_cifar10()
    make_cifar100()
    make_idx()
    make_flags()
    make_checkpoint()
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print("wrote %s: %d bytes" % (os.path.normpath(OUT), total))
