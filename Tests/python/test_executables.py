"""The two executables: `infoplane` draws without loading OpenBLAS and hands
every other command to `infoplane-compute` beside it."""
import os
import pathlib
import shutil
import subprocess

import numpy as np

from conftest import run


def linked_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def test_the_drawing_executable_does_not_link_openblas(infoplane):
    libraries = linked_libraries(infoplane)
    assert any("libpng" in lib for lib in libraries)
    assert not any("blas" in lib or "gfortran" in lib for lib in libraries), libraries
    compute = str(pathlib.Path(infoplane).with_name("infoplane-compute"))
    assert any("openblas" in lib for lib in linked_libraries(compute))


def test_grid_runs_in_process_and_other_commands_in_compute(infoplane, tmp_path):
    images = np.random.default_rng(4).random((5, 3, 6, 7), dtype=np.float32)
    np.save(tmp_path / "imgs.npy", images)
    # A grid works with infoplane-compute absent: it ran in this process.
    lonely = tmp_path / "bin" / "infoplane"
    lonely.parent.mkdir()
    shutil.copy(infoplane, lonely)
    out = run(str(lonely), "grid", tmp_path / "imgs.npy", "-o", tmp_path / "g.png", "--nrow", "2")
    assert out.stdout.strip() == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Without infoplane-compute beside it, the other commands fail naming it.
    for args in (["train", "--help"], ["--version"], []):
        result = run(str(lonely), *args, check=False)
        assert result.returncode == 127, args
        assert "infoplane-compute" in result.stderr
        assert "swift build" in result.stderr

    # Beside the real one, they run in it with the same arguments.
    assert run(infoplane, "--version").stdout.strip() == "0.1.0"
    help_text = run(infoplane, "--help").stdout
    for command in ("train", "estimate", "plot", "grid", "demo", "reproduce", "audit"):
        assert command in help_text
    bad = run(infoplane, "train", "--out", tmp_path / "run", "--no-such-option", check=False)
    assert bad.returncode != 0 and "Unknown option '--no-such-option'" in bad.stderr
    assert not (tmp_path / "run").exists()


def test_grid_bytes_are_the_same_from_either_executable(infoplane, tmp_path):
    images = np.random.default_rng(5).random((9, 1, 8, 8), dtype=np.float32)
    np.save(tmp_path / "imgs.npy", images)
    compute = str(pathlib.Path(infoplane).with_name("infoplane-compute"))
    run(infoplane, "grid", tmp_path / "imgs.npy", "-o", tmp_path / "a.png", "--nrow", "3")
    run(compute, "grid", tmp_path / "imgs.npy", "-o", tmp_path / "b.png", "--nrow", "3")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_grid_value_range_takes_a_negative_pair_as_typed(infoplane, tmp_path):
    images = np.random.default_rng(6).uniform(-0.5, 0.5, (4, 1, 5, 5)).astype(np.float32)
    np.save(tmp_path / "imgs.npy", images)
    common = [infoplane, "grid", tmp_path / "imgs.npy", "--normalize", "--nrow", "2"]
    run(*common, "-o", tmp_path / "spaced.png", "--value-range", "-1,1")
    run(*common, "-o", tmp_path / "joined.png", "--value-range=-1,1")
    run(*common, "-o", tmp_path / "minmax.png")
    spaced = (tmp_path / "spaced.png").read_bytes()
    assert spaced == (tmp_path / "joined.png").read_bytes()
    # The range was used: values in [-0.5, 0.5] mapped by (-1, 1) are not
    # the batch's own min-max stretch.
    assert spaced != (tmp_path / "minmax.png").read_bytes()
