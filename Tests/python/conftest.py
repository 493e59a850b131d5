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


def kill_and_resume(infoplane, command, directory, attempts, max_delay, rng, after_kill=None):
    """Starts `command` (a training run into `directory`) and kills it with
    SIGKILL once its manifest exists, at a random moment up to `max_delay`
    seconds later; then resumes it (`infoplane train --resume`) and kills it
    again, up to `attempts` times, stopping early once a run completes.
    `after_kill(manifest)` checks the directory after each kill.

    Returns how many kills interrupted the run."""
    import json
    import signal
    import time

    interrupted = 0
    for _ in range(attempts):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not (directory / "manifest.json").exists() and time.time() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, max_delay))
        process.send_signal(signal.SIGKILL)
        process.wait()
        manifest = json.loads((directory / "manifest.json").read_text())
        if after_kill:
            after_kill(manifest)
        if manifest["complete"]:
            break
        interrupted += 1
        command = [infoplane, "train", "--resume", str(directory)]
    return interrupted
