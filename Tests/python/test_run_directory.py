"""A run directory opens with NumPy alone and agrees with its manifest."""
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest

from conftest import run


@pytest.fixture(scope="module")
def tanh_run(infoplane, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "tanh"
    run(infoplane, "train", "--task", "tishby", "--activation", "tanh", "--epochs", 60,
        "--record", "every:10", "--checkpoint-interval", 20, "--seed", 3, "--out", out)
    return out


def test_every_array_loads_and_matches_the_manifest(tanh_run):
    manifest = json.loads((tanh_run / "manifest.json").read_text())
    assert manifest["complete"] is True
    assert manifest["format_version"] == 1
    n = manifest["sample_count"]
    assert manifest["train_count"] + manifest["test_count"] == n == 4096

    x = np.load(tanh_run / "inputs.npy")
    y = np.load(tanh_run / "labels.npy")
    mask = np.load(tanh_run / "train_mask.npy")
    assert x.dtype == np.float32 and x.shape == (n, 12) and x.flags.c_contiguous
    assert set(np.unique(x)) <= {0.0, 1.0} and len({r.tobytes() for r in x}) == 4096
    assert y.dtype == np.int64 and y.shape == (n,) and set(np.unique(y)) == {0, 1}
    assert mask.dtype == np.bool_ and mask.sum() == manifest["train_count"]

    widths = [layer["width"] for layer in manifest["layers"]]
    assert widths == manifest["settings"]["widths"][1:]
    assert manifest["recorded_epochs"] == manifest["planned_epochs"]
    for epoch in manifest["recorded_epochs"]:
        for layer in manifest["layers"]:
            a = np.load(tanh_run / "activations" / f"epoch-{epoch}-layer-{layer['index']}.npy")
            assert a.dtype == np.float32 and a.shape == (n, layer["width"])
            assert np.isfinite(a).all()
            if layer["activation"] == "tanh":
                assert np.abs(a).max() <= 1.0
            if layer["activation"] == "softmax":
                np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-5)

    metrics = np.genfromtxt(tanh_run / "metrics.csv", delimiter=",", names=True)
    assert list(metrics["epoch"]) == list(range(manifest["epochs_completed"] + 1))
    assert metrics.dtype.names == ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")
    assert metrics["train_loss"][-1] < metrics["train_loss"][0]

    grads = np.genfromtxt(tanh_run / "gradients.csv", delimiter=",", names=True)
    recorded_after_training = [e for e in manifest["recorded_epochs"] if e > 0]
    assert len(grads) == len(recorded_after_training) * len(manifest["layers"])
    np.testing.assert_allclose(grads["snr"], grads["grad_mean_norm"] / grads["grad_std_norm"], rtol=1e-12)

    weights = np.load(tanh_run / "weights.npz")
    assert sorted(weights.files) == sorted([f"{k}{i}" for i in range(1, 7) for k in "Wb"])
    assert weights["W1"].shape == (10, 12) and weights["b6"].shape == (2,)


def test_final_softmax_layer_recomputes_from_weights(tanh_run):
    """The recorded last hidden layer and the saved weights give the recorded softmax."""
    manifest = json.loads((tanh_run / "manifest.json").read_text())
    last = manifest["recorded_epochs"][-1]
    assert last == manifest["epochs_completed"] == 60
    w = np.load(tanh_run / "weights.npz")
    h = np.load(tanh_run / "activations" / f"epoch-{last}-layer-5.npy").astype(np.float64)
    z = h @ w["W6"].T.astype(np.float64) + w["b6"]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    recorded = np.load(tanh_run / "activations" / f"epoch-{last}-layer-6.npy")
    np.testing.assert_allclose(recorded, p, atol=1e-5)


def test_kill_9_then_resume_is_byte_identical(infoplane, tmp_path):
    args = ["train", "--task", "tishby", "--activation", "relu", "--epochs", 200, "--record", "log:60",
            "--checkpoint-interval", 25, "--seed", 11]
    run(infoplane, *args, "--out", tmp_path / "whole")

    rng = np.random.default_rng(int(time.time()))
    killed = tmp_path / "killed"
    process = subprocess.Popen([infoplane, *map(str, args), "--out", str(killed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill once some epochs are committed: somewhere in the run, not at its end.
    deadline = time.time() + 60
    while not (killed / "manifest.json").exists() and time.time() < deadline:
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.5))
    process.send_signal(signal.SIGKILL)
    process.wait()

    manifest = json.loads((killed / "manifest.json").read_text())
    # What the manifest vouches for is readable, whatever the moment of the kill.
    for epoch in manifest["recorded_epochs"]:
        for layer in range(1, 7):
            np.load(killed / "activations" / f"epoch-{epoch}-layer-{layer}.npy")

    run(infoplane, "train", "--resume", killed)
    whole = {p.relative_to(tmp_path / "whole"): p.read_bytes() for p in (tmp_path / "whole").rglob("*") if p.is_file()}
    resumed = {p.relative_to(killed): p.read_bytes() for p in killed.rglob("*") if p.is_file()}
    assert sorted(whole) == sorted(resumed)
    for name, content in whole.items():
        assert resumed[name] == content, f"{name} differs after kill -9 and resume"


def test_bad_options_fail_clearly(infoplane, tmp_path):
    cases = [
        (["--epochs", "0"], "--epochs must be positive"),
        (["--activation", "swish"], "unknown activation"),
        (["--task", "cifar"], "unknown task"),
        (["--record", "sometimes"], "unknown schedule"),
        (["--data", str(tmp_path / "missing")], "missing"),
    ]
    for extra, message in cases:
        result = run(infoplane, "train", "--out", tmp_path / "x", *extra, check=False)
        assert result.returncode != 0, extra
        assert message in result.stderr, (extra, result.stderr)
    assert not (tmp_path / "x" / "manifest.json").exists()
