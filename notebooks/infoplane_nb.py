"""Shared helpers for the notebooks: find the infoplane binary, make sure an
experiment's runs and figures exist, and independent NumPy estimators.

Environment (all optional):
  INFOPLANE          the infoplane binary (default: .build/release, then .build/debug)
  INFOPLANE_SCALE    quick | standard | full (default standard: the committed figures)
  INFOPLANE_RUNS     root directory of runs (default: runs/ at the repository root)
  INFOPLANE_FIGURES  directory of figures and summaries (default: figures/)

The test suite executes every notebook with INFOPLANE_SCALE=quick and
temporary directories, so a notebook must work at every scale.
"""
import json
import os
import pathlib
import subprocess

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def binary():
    """The infoplane executable to call."""
    if os.environ.get("INFOPLANE"):
        return os.environ["INFOPLANE"]
    for kind in ("release", "debug"):
        path = ROOT / ".build" / kind / "infoplane"
        if path.exists():
            return str(path)
    raise FileNotFoundError("no infoplane binary: run `swift build -c release` first, or set INFOPLANE")


def scale():
    return os.environ.get("INFOPLANE_SCALE", "standard")


def runs_root():
    return pathlib.Path(os.environ.get("INFOPLANE_RUNS", ROOT / "runs"))


def figures_dir():
    return pathlib.Path(os.environ.get("INFOPLANE_FIGURES", ROOT / "figures"))


def infoplane(*args):
    """Runs infoplane with arguments, raising with its stderr on failure; returns stdout."""
    result = subprocess.run([binary(), *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"infoplane {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result.stdout


def reproduce(suite, experiment, *extra):
    """Runs `infoplane reproduce SUITE --experiment NAME` unless its summary
    exists; returns the directory of its runs."""
    summary = figures_dir() / f"{suite}-{experiment}.md"
    runs = runs_root() / suite / experiment
    if not summary.exists() or not runs.exists():
        infoplane("reproduce", suite, "--experiment", experiment, "--scale", scale(),
                  "--runs", runs_root(), "--figures", figures_dir(), *extra)
    return runs


def manifest(run):
    return json.loads((pathlib.Path(run) / "manifest.json").read_text())


def activations(run, epoch, layer):
    return np.load(pathlib.Path(run) / "activations" / f"epoch-{epoch}-layer-{layer}.npy")


def read_csv(path):
    """A CSV with a header row as a dict of columns (floats where they parse)."""
    table = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8", comments="#")
    return {name: table[name] for name in table.dtype.names}


def entropy_bits(codes):
    """Plug-in entropy, in bits, of the rows of an integer array."""
    _, counts = np.unique(np.asarray(codes).reshape(len(codes), -1), axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def edges_codes(t, bins):
    """Shwartz-Ziv & Tishby's binning: digitize against float32 linspace(-1, 1, bins), minus 1."""
    return np.digitize(t, np.linspace(-1, 1, bins).astype(np.float32)) - 1


def uniform_codes(t, lo, hi, bins):
    """`bins` equal bins over [lo, hi] (Saxe et al.'s `global` binning when lo, hi are the
    run's extremes): digitize against linspace(lo, hi, bins + 1) in float64, clipped."""
    edges = np.linspace(float(lo), float(hi), bins + 1)
    return np.clip(np.digitize(np.asarray(t, dtype=np.float64), edges) - 1, 0, bins - 1)


def show(*names):
    """Displays figures from the figures directory."""
    from IPython.display import Image, display
    for name in names:
        display(Image(filename=str(figures_dir() / name)))


def compression_verdict(values, window=5, noise_multiple=3.0, absolute=0.25, relative=0.05):
    """The compression rule of `infoplane` (README, "The compression verdict") in NumPy:
    a running median of `window` recorded epochs cut at the ends, peak and final of the
    smoothed curve, the noise 1.4826 · MAD of the first differences / √2, and compressed
    when peak − final exceeds max(absolute, relative · peak, noise_multiple · noise)."""
    v = np.asarray(values, dtype=np.float64)
    h = window // 2
    smoothed = np.array([np.median(v[max(0, i - h):i + h + 1]) for i in range(len(v))])
    if len(v) >= 3:
        d = np.diff(v)
        noise = 1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2)
    else:
        noise = 0.0
    k = int(np.argmax(smoothed))
    peak, final = smoothed[k], smoothed[-1]
    required = max(absolute, relative * peak, noise_multiple * noise)
    return {"peak": peak, "peak_index": k, "final": final, "drop": peak - final, "noise": noise,
            "required": required, "compressed": bool(peak - final > required)}


def averaged_runs(table_csv):
    """The run names an `average-*.csv` of `infoplane reproduce` averages (its `.json`)."""
    sidecar = pathlib.Path(str(table_csv)[:-4] + ".json")
    return json.loads(sidecar.read_text())["runs"].split(",")
