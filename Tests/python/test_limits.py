"""Resource limits: deflate bombs (in a checkpoint, given to estimate) are refused before they are inflated."""
import io
import resource
import subprocess
import sys
import zipfile

import numpy as np

from conftest import run


def peak_memory_mb(*command):
    """Runs a command in a fresh Python whose only child it is; returns (result, peak RSS in MB)."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(r.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(r.stderr, end='')")
    out = subprocess.run([sys.executable, "-c", probe, *map(str, command)], capture_output=True, text=True, check=True).stdout
    code, peak, stderr = out.split("\n", 2)
    return int(code), int(peak) / 1024, stderr


def deflate_bomb(path, member, promised):
    """A .npz whose member's .npy header promises `promised`, followed by 1 GiB of zeros."""
    header = io.BytesIO()
    np.save(header, promised)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open(member, "w", force_zip64=True) as f:
            f.write(header.getvalue())
            zeros = bytes(1 << 20)
            for _ in range(1024):
                f.write(zeros)


def test_a_deflate_bomb_checkpoint_is_refused_with_little_memory(infoplane, tmp_path):
    out = tmp_path / "run"
    run(infoplane, "train", "--task", "tishby", "--epochs", "4", "--seed", "2", "--out", out)
    # A member whose .npy header promises 10 floats, followed by 1 GiB of zeros that deflate
    # to about 1 MB; the ZIP entry declares the true (inflated) size.
    deflate_bomb(out / "checkpoint.npz", "W1.npy", np.zeros(10, dtype=np.float32))
    assert (out / "checkpoint.npz").stat().st_size < 8 << 20
    code, peak, stderr = peak_memory_mb(infoplane, "train", "--resume", out)
    assert code != 0
    assert "checkpoint.npz" in stderr and "W1.npy" in stderr and "disagrees with the file size" in stderr, stderr
    assert peak < 100, f"peak RSS {peak:.0f} MB"


def test_a_deflate_bomb_given_to_estimate_is_refused_with_little_memory(infoplane, tmp_path):
    # estimate reads .npy files only: a bomb given as its labels (or inputs) is refused by its
    # magic, naming the file, before any member is inflated.
    acts = tmp_path / "acts"
    acts.mkdir()
    np.save(acts / "epoch-0-layer-1.npy", np.random.default_rng(0).random((100, 3), dtype=np.float32))
    deflate_bomb(tmp_path / "labels.npz", "labels.npy", np.zeros(100, dtype=np.int64))
    for option in ("--labels", "--inputs"):
        labels = tmp_path / "labels.npz" if option == "--labels" else tmp_path / "ok.npy"
        np.save(tmp_path / "ok.npy", np.zeros(100, dtype=np.int64))
        command = [infoplane, "estimate", "--activations", acts, "--labels", labels, "-o", tmp_path / "mi.csv"]
        if option == "--inputs":
            command += ["--inputs", tmp_path / "labels.npz"]
        code, peak, stderr = peak_memory_mb(*command)
        assert code != 0
        assert "labels.npz" in stderr and "not a .npy file" in stderr, stderr
        assert peak < 100, f"peak RSS {peak:.0f} MB"
        assert not (tmp_path / "mi.csv").exists()


def test_a_header_above_the_limit_is_refused(infoplane, tmp_path):
    path = tmp_path / "big-header.npy"
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" + " " * 1_100_000 + "\n"
    path.write_bytes(b"\x93NUMPY\x02\x00" + len(text).to_bytes(4, "little") + text.encode() + bytes(16))
    result = run(infoplane, "grid", path, "-o", tmp_path / "g.png", check=False)
    assert result.returncode != 0 and "the limit is 1048576" in result.stderr and str(path) in result.stderr
