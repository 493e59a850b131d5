"""Writes the seed corpora of the fuzz targets (Tests/Fuzz/Corpus/<target>/):
small valid files of every form each reader accepts, made with NumPy and the
standard library so that they are what users' tools write. Run from the
repository root with a manifest of a real run as the argument:

    python3 Tests/Fuzz/make_corpus.py runs/some-run field.npz

(field.npz a small simulated field: `infoplane simulate air --grid 4 --years
0.02 --stations 2 --seed 1 -o field.npz`.)

The files are committed; rerun only to change the seeds.
"""

import gzip
import io
import json
import pathlib
import shutil
import struct
import sys
import zipfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent / "Corpus"


def target(name):
    """The seed directory of a target, emptied except for its regression-*
    files (inputs that once crashed a reader, kept for good)."""
    path = ROOT / name
    path.mkdir(parents=True, exist_ok=True)
    for old in path.iterdir():
        if not old.name.startswith("regression-"):
            old.unlink()
    return path


def npy_bytes(array, version=None):
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def main(run, field_path):
    rng = np.random.default_rng(0)
    arrays = {
        "f4": rng.standard_normal((3, 4)).astype("<f4"),
        "f2": rng.standard_normal((5,)).astype("<f2"),
        "f8": rng.standard_normal((2, 2, 2)).astype("<f8"),
        "u1": rng.integers(0, 255, (2, 1, 3, 3)).astype("u1"),
        "i1": rng.integers(-100, 100, (4,)).astype("i1"),
        "i4": rng.integers(-1000, 1000, (2, 3)).astype("<i4"),
        "i8": rng.integers(-10**12, 10**12, (3,)).astype("<i8"),
        "b1": rng.integers(0, 2, (6,)).astype(bool),
        "scalar": np.array(7, dtype="<i8"),
        "empty": np.zeros((0, 3), dtype="<f4"),
        "fortran": np.asfortranarray(rng.standard_normal((3, 2)).astype("<f4")),
    }
    npy = target("fuzz-npy")
    for name, array in arrays.items():
        (npy / f"{name}.npy").write_bytes(npy_bytes(array))
    (npy / "f4-v2.npy").write_bytes(npy_bytes(arrays["f4"], (2, 0)))
    (npy / "f4-v3.npy").write_bytes(npy_bytes(arrays["f4"], (3, 0)))

    npz = target("fuzz-npz")
    pair = {"a": arrays["f4"], "b": arrays["i8"]}
    np.savez(npz / "stored.npz", **pair)
    np.savez_compressed(npz / "deflated.npz", **pair)
    with zipfile.ZipFile(npz / "zip64.npz", "w") as z:
        for name, array in pair.items():
            with z.open(name + ".npy", "w", force_zip64=True) as member:
                member.write(npy_bytes(array))

    class Unseekable(io.RawIOBase):
        """A stream without seek: zipfile then writes data descriptors."""
        def __init__(self):
            self.data = bytearray()
        def writable(self):
            return True
        def write(self, b):
            self.data += b
            return len(b)

    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, array in pair.items():
            z.writestr(name + ".npy", npy_bytes(array))
    (npz / "descriptors.npz").write_bytes(bytes(stream.data))

    idx = target("fuzz-idx")
    images = rng.integers(0, 255, (3, 4, 4)).astype("u1")
    labels = np.array([1, 0, 9], dtype="u1")
    for name, array in (("images", images), ("labels", labels)):
        raw = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
        (idx / f"{name}-ubyte").write_bytes(raw)
        (idx / f"{name}-ubyte.gz").write_bytes(gzip.compress(raw, mtime=0))

    csv = target("fuzz-tishby-csv")
    x = rng.integers(0, 2, (6, 12))
    y = rng.integers(0, 2, (6, 1))
    text = lambda a: "".join(",".join(map(str, row)) + "\n" for row in a)
    (csv / "six-rows").write_bytes(text(x).encode() + b"\0" + text(y).encode())
    (csv / "crlf").write_bytes(text(x[:2]).replace("\n", "\r\n").encode() + b"\0" + text(y[:2]).encode())

    table = target("fuzz-mi-table")
    shutil.copy(pathlib.Path(run) / "mi-binning.csv", table / "binning.csv")
    (table / "kde.csv").write_text("epoch,layer,I_XT_upper,I_TY_upper,I_XT_lower,I_TY_lower\n"
                                   "0,1,3.5,0.9,3.1,0.8\n0,2,nan,0.5,2.0,0.4\n")

    manifest = target("fuzz-manifest")
    shutil.copy(pathlib.Path(run) / "manifest.json", manifest / "manifest.json")
    compact = json.loads((pathlib.Path(run) / "manifest.json").read_text())
    (manifest / "compact.json").write_text(json.dumps(compact, separators=(",", ":")))

    images_target = target("fuzz-image-set")
    batch = rng.integers(0, 255, (4, 1, 4, 4)).astype("u1")
    (images_target / "bytes.npy").write_bytes(npy_bytes(batch))
    (images_target / "floats.npy").write_bytes(npy_bytes((batch / 127.5 - 1).astype("<f4")))
    np.savez(images_target / "labelled.npz", images=batch, labels=np.array([0, 1, 2, 3], dtype="<i8"))


    sweeps = target("fuzz-sweep-file")
    (sweeps / "small.json").write_text(json.dumps({
        "settings": {"task": "tishby", "epochs": 200, "record": "every:20"},
        "axes": {"activation": ["tanh", "relu"], "seed": [1, 2, 3]},
        "estimates": [{"estimator": "binning"}, {"estimator": "kde", "noise-variance": 0.1}],
        "audit": {"estimate": "binning"},
        "slurm": {"epochs-per-shard": 4, "throttle": 4, "mem": "500M", "time": "00:10:00"}}, indent=2))
    (sweeps / "minimal.json").write_text('{"settings": {"task": "tishby", "epochs": 10}, "axes": {"lr": [0.001, 1e-4]}}')

    field = target("fuzz-air-field")
    shutil.copy(field_path, field / "tiny-field.npz")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
