"""Cuts a data set's IDX training files into a tuning split and a validation split, for tuning federated
hyper-parameters without looking at the test images.

  python3 scripts/federated_validation_split.py SOURCE_FOLDER OUT_FOLDER [VALIDATION_COUNT]

Writes OUT_FOLDER/{train,validation}-{images-idx3,labels-idx1}-ubyte.gz: the first 60,000 − VALIDATION_COUNT
training images (default 10,000 held out) and the last VALIDATION_COUNT, in their original order. The test files
are not read. The tuning pipelines of notebooks-exports/federated-results.md use the 50,000 / 10,000 cut of MNIST.
"""
import gzip
import struct
import sys
from pathlib import Path


def read_idx(path):
    data = gzip.open(path, "rb").read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return magic, shape, data[4 + 4 * dims:]


def write_idx(path, magic, shape, body):
    with gzip.open(path, "wb") as out:
        out.write(struct.pack(">I", magic) + struct.pack(">" + "I" * len(shape), *shape) + body)


def main():
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    held_out = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    out.mkdir(parents=True, exist_ok=True)
    for kind, name in (("images", "images-idx3"), ("labels", "labels-idx1")):
        magic, shape, body = read_idx(source / f"train-{name}-ubyte.gz")
        count = shape[0]
        keep = count - held_out
        assert 0 < keep < count, "the validation split must leave some training examples"
        item = len(body) // count
        write_idx(out / f"train-{name}-ubyte.gz", magic, (keep,) + shape[1:], body[:keep * item])
        write_idx(out / f"validation-{name}-ubyte.gz", magic, (held_out,) + shape[1:], body[keep * item:])
        print(f"{kind}: {keep} for tuning, {held_out} held out")


if __name__ == "__main__":
    main()
