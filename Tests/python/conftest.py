"""Shared fixtures: the infoplane binary the Swift build made, and temp dirs."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def infoplane():
    """Path of the debug `infoplane` binary (built by `swift build --build-tests`).

    `infoplane` runs plot and grid itself and starts `infoplane-compute`, built
    beside it, for every other command: both must exist.
    """
    path = ROOT / ".build" / "debug" / "infoplane"
    for product in ("infoplane", "infoplane-compute"):
        if not (ROOT / ".build" / "debug" / product).exists():
            subprocess.run(["swift", "build", "--product", product], cwd=ROOT, check=True)
    return str(path)


def run(binary, *args, check=True):
    """Runs infoplane with arguments; returns the CompletedProcess."""
    result = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"infoplane {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result
