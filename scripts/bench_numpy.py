"""The NumPy baseline of `infoplane estimate RUN` (binning, the default
discretization: edges = np.linspace(-1, 1, 30), np.digitize, as Saxe et al.'s
ibsgd code does), on a run directory written by `infoplane train`:

    python3 scripts/bench_numpy.py runs/tanh

Reads every recorded layer-epoch with np.load and computes I(X;T) = H(T)
(distinct inputs) and I(T;Y) = H(T) - H(T|Y) from the rows' unique counts;
prints the whole time and the time a layer-epoch, best of three."""
import json
import pathlib
import sys
import time

import numpy as np


def entropy(counts):
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def binned_information(t, labels, edges):
    digitized = np.ascontiguousarray(np.digitize(t, edges) - 1)
    # Rows as opaque byte strings, as Saxe et al.'s ibsgd code does, then one 1-D unique.
    rows = digitized.view(np.dtype((np.void, digitized.dtype.itemsize * digitized.shape[1]))).ravel()
    _, inverse, counts = np.unique(rows, return_inverse=True, return_counts=True)
    h_t = entropy(counts)
    h_t_given_y = 0.0
    for y in np.unique(labels):
        ids = inverse[labels == y]
        h_t_given_y += (ids.size / labels.size) * entropy(np.bincount(ids)[np.bincount(ids) > 0])
    return h_t, h_t - h_t_given_y


def main(run):
    run = pathlib.Path(run)
    manifest = json.loads((run / "manifest.json").read_text())
    labels = np.load(run / "labels.npy")
    edges = np.linspace(-1, 1, 30).astype(np.float32)
    layers = len(manifest["layers"])
    epochs = manifest["recorded_epochs"]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for epoch in epochs:
            for layer in range(1, layers + 1):
                binned_information(np.load(run / "activations" / f"epoch-{epoch}-layer-{layer}.npy"), labels, edges)
        best = min(best, time.perf_counter() - start)
    count = len(epochs) * layers
    print(f"NumPy {np.__version__} binning of {layers} x {len(epochs)} layer-epochs: {best:.2f} s, "
          f"{best / count * 1e3:.2f} ms a layer-epoch (best of 3, one thread)")


if __name__ == "__main__":
    main(sys.argv[1])
