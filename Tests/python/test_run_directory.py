"""A run directory opens with NumPy alone and agrees with its manifest."""
import json
import os
import time

import numpy as np
import pytest

from conftest import kill_and_resume, run


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
    # Files are written by a thread of their own, in order, while training
    # goes on: a kill at any moment must leave what the manifest vouches for
    # readable, and resuming (killed again, and again) must end in the bytes
    # of an uninterrupted run.
    args = ["train", "--task", "tishby", "--activation", "relu", "--epochs", 3000, "--record", "log:200",
            "--checkpoint-interval", 25, "--seed", 11]
    run(infoplane, *args, "--out", tmp_path / "whole")

    rng = np.random.default_rng(int(time.time()))
    killed = tmp_path / "killed"

    def readable(manifest):
        # What the manifest vouches for is readable, whatever the moment of the kill.
        for epoch in manifest["recorded_epochs"]:
            for layer in range(1, 7):
                np.load(killed / "activations" / f"epoch-{epoch}-layer-{layer}.npy")

    # Kill once the run exists: somewhere in it, not (usually) at its end.
    interrupted = kill_and_resume(infoplane, [infoplane, *map(str, args), "--out", str(killed)], killed,
                                  attempts=4, max_delay=0.25, rng=rng, after_kill=readable)
    assert interrupted >= 1, "every kill came after the run had finished"

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


def test_estimate_and_plot_from_the_command_line(infoplane, tanh_run, tmp_path):
    run(infoplane, "estimate", tanh_run, "--discretization", "edges", "--bins", 30, "-o", tmp_path / "mi.csv")
    table = np.genfromtxt(tmp_path / "mi.csv", delimiter=",", names=True)
    assert table.dtype.names == ("epoch", "layer", "I_XT", "I_TY", "H_T")
    params = json.loads((tmp_path / "mi.json").read_text())
    assert params["estimator"] == "binning" and params["bins"] == "30" and params["units"] == "bits"
    # H(T) of layer 5 at the last epoch, recomputed with NumPy from the recorded activations
    # with the original code's binning: digitize against float32 linspace(-1, 1, 30).
    manifest = json.loads((tanh_run / "manifest.json").read_text())
    epoch = manifest["recorded_epochs"][-1]
    t = np.load(tanh_run / "activations" / f"epoch-{epoch}-layer-5.npy")
    codes = np.digitize(t, np.linspace(-1, 1, 30).astype(np.float32)) - 1
    _, counts = np.unique(codes, axis=0, return_counts=True)
    p = counts / counts.sum()
    h = -(p * np.log2(p)).sum()
    row = table[(table["epoch"] == epoch) & (table["layer"] == 5)][0]
    assert abs(row["H_T"] - h) < 1e-9

    run(infoplane, "plot", "infoplane", tmp_path / "mi.csv", "-o", tmp_path / "plane.png")
    assert (tmp_path / "plane.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run(infoplane, "plot", "curves", tanh_run, "--kind", "gradients", "--scale", 2, "-o", tmp_path / "snr.png")
    assert (tmp_path / "snr.png").stat().st_size > 10_000

    bad = run(infoplane, "plot", "infoplane", tmp_path / "mi.csv", "-o", tmp_path / "missing" / "x.png", check=False)
    assert bad.returncode != 0 and "missing" in bad.stderr
    assert not (tmp_path / "missing").exists()
    nan_table = tmp_path / "nan.csv"
    nan_table.write_text("epoch,layer,I_XT,I_TY\n0,1,1.0,0.5\n1,1,nan,0.6\n2,1,2.0,0.7\n")
    warned = run(infoplane, "plot", "infoplane", nan_table, "-o", tmp_path / "nan.png")
    assert "warning" in warned.stderr and (tmp_path / "nan.png").exists()
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    failed = run(infoplane, "plot", "infoplane", empty, "-o", tmp_path / "empty.png", check=False)
    assert failed.returncode != 0 and "empty.csv" in failed.stderr and not (tmp_path / "empty.png").exists()
    bad_epoch = run(infoplane, "estimate", tanh_run, "--epochs", "12345", check=False)
    assert bad_epoch.returncode != 0 and "epoch 12345 is not recorded" in bad_epoch.stderr


def test_grid_from_numpy(infoplane, tmp_path):
    images = np.random.default_rng(0).random((64, 3, 32, 32), dtype=np.float32)
    np.save(tmp_path / "images.npy", images)
    run(infoplane, "grid", tmp_path / "images.npy", "-o", tmp_path / "grid.png", "--nrow", 8, "--padding", 2)
    png = (tmp_path / "grid.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (274, 274)
    np.save(tmp_path / "bad.npy", np.zeros((4, 5, 8, 8), dtype=np.float32))
    bad = run(infoplane, "grid", tmp_path / "bad.npy", "-o", tmp_path / "bad.png", check=False)
    assert bad.returncode != 0 and "bad.npy" in bad.stderr
