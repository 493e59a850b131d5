"""Fault injection for the run directory: a disk that fills up during
recording and a read-only output directory end with a clear error naming the
file, and a run resumes once space is back, to the bytes of an uninterrupted
run. Uses a small tmpfs (needs root, as on the CI machine; skipped otherwise)."""
import contextlib
import json
import os
import subprocess

import numpy as np
import pytest

from conftest import run


@contextlib.contextmanager
def small_filesystem(path, size):
    path.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount(path, options):
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


ARGS = ["train", "--task", "tishby", "--activation", "tanh", "--epochs", 40, "--record", "every",
        "--checkpoint-interval", 10, "--seed", 5]


def test_a_full_disk_stops_the_run_clearly_and_it_resumes_to_the_same_bytes(infoplane, tmp_path):
    run(infoplane, *ARGS, "--out", tmp_path / "whole")
    # Each recorded epoch is about 0.5 MB: 3 MB fill up a few epochs in.
    with small_filesystem(tmp_path / "small", "3m") as disk:
        out = disk / "run"
        failed = run(infoplane, *ARGS, "--out", out, check=False)
        assert failed.returncode != 0
        assert "No space left on device" in failed.stderr and str(out) in failed.stderr, failed.stderr
        assert "Error" in failed.stderr and "Fatal" not in failed.stderr
        manifest = json.loads((out / "manifest.json").read_text())
        assert not manifest["complete"] and manifest["epochs_completed"] < 40
        # What the manifest vouches for is whole.
        for epoch in manifest["recorded_epochs"]:
            np.load(out / "activations" / f"epoch-{epoch}-layer-1.npy")
        remount(disk, "size=64m")
        run(infoplane, "train", "--resume", out)
        whole = {p.relative_to(tmp_path / "whole"): p.read_bytes() for p in (tmp_path / "whole").rglob("*") if p.is_file()}
        resumed = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        assert sorted(whole) == sorted(resumed)
        for name, content in whole.items():
            assert resumed[name] == content, f"{name} differs after the disk filled up and the run resumed"


def test_a_read_only_output_directory_is_a_clear_error(infoplane, tmp_path):
    with small_filesystem(tmp_path / "ro", "8m") as disk:
        remount(disk, "ro")
        failed = run(infoplane, *ARGS, "--out", disk / "run", check=False)
        assert failed.returncode != 0
        assert "Read-only file system" in failed.stderr and str(disk / "run") in failed.stderr, failed.stderr
        assert not (disk / "run").exists()
        # An estimate into a read-only run directory names the output file.
        remount(disk, "rw")
        run(infoplane, "train", "--task", "tishby", "--epochs", 4, "--record", "every", "--out", disk / "small-run")
        remount(disk, "ro")
        failed = run(infoplane, "estimate", disk / "small-run", check=False)
        assert failed.returncode != 0
        assert "Read-only file system" in failed.stderr and "mi-binning.csv" in failed.stderr, failed.stderr
