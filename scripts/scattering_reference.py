#!/usr/bin/env python3
"""Known-answer values for Veil's 2-D scattering transform.

Installs kymatio (numpy frontend) into a virtual environment under .build/ the first time, computes
Scattering2D(J=2, shape=(28, 28), L=8) of the first images of the MNIST test split, and writes the
images and their 81 x 7 x 7 coefficients (kymatio's order: channel, row, column) as JSON for
PrivateTrainingTests. kymatio is used here only; the tests read the JSON.

    python3 scripts/scattering_reference.py [--images N] [--mnist DIR] [--out FILE]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".build", "scatter-ref")
PYTHON = os.path.join(VENV, "bin", "python")


def ensure_environment():
    """Re-runs this script inside the .build/ virtual environment, creating it if needed."""
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(PYTHON):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([PYTHON, "-m", "pip", "install", "-q", "kymatio==0.3.0", "numpy", "scipy"])
    os.execv(PYTHON, [PYTHON] + sys.argv)


def read_idx_images(path, count):
    with gzip.open(path, "rb") as f:
        header = f.read(16)
        rows = int.from_bytes(header[8:12], "big")
        columns = int.from_bytes(header[12:16], "big")
        body = f.read(count * rows * columns)
    return rows, columns, body


def main():
    ensure_environment()
    import numpy as np
    import kymatio
    # The 2-D frontend alone: kymatio.numpy also imports the 3-D transform, which needs scipy.special.sph_harm
    # (removed in SciPy 1.17).
    from kymatio.scattering2d.frontend.numpy_frontend import ScatteringNumPy2D as Scattering2D

    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--mnist", default=os.environ.get("MNIST_DIR", "../shared/datasets/mnist"))
    parser.add_argument("--out", default=os.path.join(ROOT, "Tests", "PrivateTrainingTests", "Resources",
                                                      "scattering_mnist_reference.json"))
    args = parser.parse_args()

    rows, columns, body = read_idx_images(os.path.join(args.mnist, "t10k-images-idx3-ubyte.gz"), args.images)
    pixels = np.frombuffer(body, dtype=np.uint8).reshape(args.images, rows, columns)
    # The same fixed map as Veil's IDX loader: value / 255, in single precision.
    images = (pixels.astype(np.float32) / np.float32(255)).astype(np.float64)
    scattering = Scattering2D(J=2, shape=(rows, columns), L=8)
    coefficients = scattering(images)  # (images, 81, 7, 7)
    document = {
        "source": "kymatio %s numpy frontend, Scattering2D(J=2, shape=(%d, %d), L=8), MNIST test images 0..%d"
                  % (kymatio.__version__, rows, columns, args.images - 1),
        "J": 2, "L": 8, "height": rows, "width": columns,
        "channels": int(coefficients.shape[1]), "outputHeight": int(coefficients.shape[2]),
        "outputWidth": int(coefficients.shape[3]),
        "images": [[float(v) for v in image.ravel()] for image in images.astype(np.float32)],
        "coefficients": [[float("%.9g" % v) for v in c.ravel()] for c in coefficients],
    }
    with open(args.out, "w") as f:
        json.dump(document, f, separators=(",", ":"))
        f.write("\n")
    print("wrote %s: %d images, %s coefficients each" % (args.out, args.images, coefficients.shape[1:]))


if __name__ == "__main__":
    main()
