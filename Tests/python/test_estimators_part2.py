"""kNN estimates against scikit-learn, and the structured-layer reductions against NumPy.

scikit-learn's `mutual_info_regression` and `mutual_info_classif` are KSG algorithm 1 and
Ross's discrete-label form with the same preprocessing as InfoPlane's (each column divided by
its standard deviation, then a jitter of 1e-10 x max(1, mean |column|)): on continuous data the
two agree up to the jitter, far below 1e-6 nats. scikit-learn clips negative estimates to 0,
so the shared cases are dependent ones.
"""
import csv
import json
import math

import numpy as np
import pytest

from conftest import run

sklearn_feature_selection = pytest.importorskip("sklearn.feature_selection")
LN2 = math.log(2)


def read_table(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {(int(r["epoch"]), int(r["layer"])): {k: float(v) for k, v in r.items() if k not in ("epoch", "layer")}
            for r in rows}


def export(directory, layers, labels, inputs=None):
    """Writes epoch-0-layer-<L>.npy for each array, labels and inputs; returns the paths."""
    directory.mkdir()
    for layer, array in enumerate(layers, start=1):
        np.save(directory / f"epoch-0-layer-{layer}.npy", array)
    np.save(directory.parent / "y.npy", np.asarray(labels, dtype=np.int64))
    args = ["--activations", directory, "--labels", directory.parent / "y.npy"]
    if inputs is not None:
        np.save(directory.parent / "x.npy", inputs)
        args += ["--inputs", directory.parent / "x.npy"]
    return args


def test_knn_matches_scikit_learn(infoplane, tmp_path):
    rng = np.random.default_rng(7)
    n = 1500
    x = rng.normal(size=n).astype(np.float32)
    y = np.digitize(x + 0.8 * rng.normal(size=n), [-0.5, 0.5])  # three classes that depend on x
    # Three layers of one unit: a noisy copy of x, a monotone squashing of it, and a unit
    # whose mean depends on the label; every I(X;T) and I(T;Y) is well above 0.
    t1 = (x + 0.5 * rng.normal(size=n)).astype(np.float32)
    t2 = np.tanh(2 * x + 0.3 * rng.normal(size=n)).astype(np.float32)
    t3 = (1.5 * y + rng.normal(size=n)).astype(np.float32)
    layers = [t1[:, None], t2[:, None], t3[:, None]]
    args = export(tmp_path / "acts", layers, y, inputs=x[:, None])
    out = tmp_path / "knn.csv"
    run(infoplane, "estimate", *args, "--estimator", "knn", "--k", "3", "-o", out)
    table = read_table(out)
    params = json.loads((tmp_path / "knn.json").read_text())
    assert params["estimator"] == "knn" and params["k"] == "3" and params["algorithm"] == "1"

    for layer, t in enumerate([t1, t2, t3], start=1):
        reference_xt = sklearn_feature_selection.mutual_info_regression(
            x[:, None].astype(np.float64), t.astype(np.float64), n_neighbors=3, random_state=0)[0]
        reference_ty = sklearn_feature_selection.mutual_info_classif(
            t[:, None].astype(np.float64), y, n_neighbors=3, random_state=0)[0]
        ours = table[(0, layer)]
        assert min(reference_xt, reference_ty) > 0.05, layer  # away from scikit-learn's clipping at 0
        assert ours["I_XT"] * LN2 == pytest.approx(reference_xt, abs=1e-6), layer
        assert ours["I_TY"] * LN2 == pytest.approx(reference_ty, abs=1e-6), layer
    # The cases are informative: I(X;T1) of a Gaussian channel with SNR 4 is 0.5 ln 5 nats.
    assert table[(0, 1)]["I_XT"] * LN2 == pytest.approx(0.5 * math.log(5), abs=0.08)
    assert table[(0, 3)]["I_TY"] > 0.5


def test_knn_with_k_5_and_algorithm_2(infoplane, tmp_path):
    """k is passed through (scikit-learn with n_neighbors=5), and algorithm 2 is close to 1."""
    rng = np.random.default_rng(11)
    n = 1200
    x = rng.normal(size=n).astype(np.float32)
    t = (x + 0.7 * rng.normal(size=n)).astype(np.float32)
    y = (x > 0).astype(np.int64)
    args = export(tmp_path / "acts", [t[:, None]], y, inputs=x[:, None])
    run(infoplane, "estimate", *args, "--estimator", "knn", "--k", "5", "-o", tmp_path / "k5.csv")
    run(infoplane, "estimate", *args, "--estimator", "knn", "--k", "5", "--algorithm", "2", "-o", tmp_path / "a2.csv")
    one = read_table(tmp_path / "k5.csv")[(0, 1)]
    two = read_table(tmp_path / "a2.csv")[(0, 1)]
    reference = sklearn_feature_selection.mutual_info_regression(
        x[:, None].astype(np.float64), t.astype(np.float64), n_neighbors=5, random_state=0)[0]
    assert one["I_XT"] * LN2 == pytest.approx(reference, abs=1e-6)
    exact = -0.5 * math.log(1 - 1 / (1 + 0.49))
    assert abs(two["I_XT"] * LN2 - exact) < 0.08
    assert two["I_XT"] != one["I_XT"]


def plugin_information(t, y):
    """Plug-in H(T) and I(T;Y) in bits of integer-valued rows t (N x d) and labels y."""
    def entropy(rows):
        _, counts = np.unique(rows, axis=0, return_counts=True)
        p = counts / counts.sum()
        return float(-(p * np.log2(p)).sum())
    joint = np.concatenate([t, y[:, None]], axis=1)
    h_t = entropy(t)
    return h_t, h_t + entropy(y[:, None]) - entropy(joint)


@pytest.mark.parametrize("reduce", ["flatten", "mean-pool", "max-pool", "per-position"])
def test_reductions_of_feature_maps_match_numpy(infoplane, tmp_path, reduce):
    rng = np.random.default_rng(3)
    n, c, h, w = 300, 2, 2, 3
    y = rng.integers(0, 2, size=n)
    # Small integers (so that every pooled value is a multiple of 1/6, far from a bin edge
    # of width 1/2), with the label shifting channel 0.
    maps = rng.integers(0, 3, size=(n, c, h, w)).astype(np.float32)
    maps[:, 0] += y[:, None, None]
    sequences = rng.integers(0, 2, size=(n, 4, 2)).astype(np.float32)  # N x L x D
    sequences[:, 1, :] += y[:, None]
    args = export(tmp_path / "acts", [maps, sequences], y)
    out = tmp_path / "mi.csv"
    run(infoplane, "estimate", *args, "--discretization", "width", "--width", "0.5", "--reduce", reduce, "-o", out)
    table = read_table(out)

    def binned(a):
        return np.floor(a.astype(np.float64) / 0.5).astype(np.int64)

    def expected(array, positions_first):
        # positions_first: N x P x F (sequences); else N x F x positions (feature maps).
        flat = array.reshape(n, -1)
        per = array.reshape(n, array.shape[1], -1)
        if positions_first:
            per = np.transpose(array, (0, 2, 1))  # N x F x P
        if reduce == "flatten":
            return plugin_information(binned(flat), y)
        if reduce == "mean-pool":
            return plugin_information(binned(per.mean(axis=2).astype(np.float32)), y)
        if reduce == "max-pool":
            return plugin_information(binned(per.max(axis=2)), y)
        values = [plugin_information(binned(per[:, :, p]), y) for p in range(per.shape[2])]
        return tuple(np.mean(values, axis=0)), values

    for layer, (array, positions_first) in enumerate([(maps, False), (sequences, True)], start=1):
        want = expected(array, positions_first)
        if reduce == "per-position":
            want, per_position = want
            rows = list(csv.DictReader(open(tmp_path / "mi-positions.csv")))
            got = [(float(r["H_T"]), float(r["I_TY"])) for r in rows if int(r["layer"]) == layer]
            assert [int(float(r["position"])) for r in rows if int(r["layer"]) == layer] == list(range(len(per_position)))
            np.testing.assert_allclose(got, per_position, atol=1e-9)
        row = table[(0, layer)]
        assert row["H_T"] == pytest.approx(want[0], abs=1e-9), (reduce, layer)
        assert row["I_TY"] == pytest.approx(want[1], abs=1e-9), (reduce, layer)
    params = json.loads((tmp_path / "mi.json").read_text())
    assert params["layer_1_shape"] == "2x2x3" and params["layer_2_shape"] == "4x2"
    assert params["layer_1_reduction"] == reduce


def test_projection_is_seeded_and_knn_needs_inputs(infoplane, tmp_path):
    rng = np.random.default_rng(5)
    n = 400
    y = rng.integers(0, 2, size=n)
    maps = rng.normal(size=(n, 4, 3, 3)).astype(np.float32)
    args = export(tmp_path / "acts", [maps], y)
    common = ["--estimator", "kde", "--reduce", "projection", "--projection-dim", "5"]
    run(infoplane, "estimate", *args, *common, "-o", tmp_path / "a.csv")
    run(infoplane, "estimate", *args, *common, "-o", tmp_path / "b.csv")
    run(infoplane, "estimate", *args, *common, "--seed", "9", "-o", tmp_path / "c.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()

    result = run(infoplane, "estimate", *args, "--estimator", "knn", check=False)
    assert result.returncode != 0 and "--inputs" in result.stderr
    for bad, message in ((["--reduce", "sideways"], "--reduce"), (["--estimator", "knn", "--algorithm", "3"], "--algorithm"),
                         (["--estimator", "all", "-o", tmp_path / "x.csv"], "drop -o")):
        result = run(infoplane, "estimate", *args, *bad, check=False)
        assert result.returncode != 0 and message in result.stderr, bad


def rule_verdict(values, window=5):
    """The compression rule of the README, recomputed: (drop, required, compressed)."""
    v = np.asarray(values, dtype=np.float64)
    h = window // 2
    smoothed = np.array([np.median(v[max(0, i - h):i + h + 1]) for i in range(len(v))])
    peak, final = smoothed.max(), smoothed[-1]
    d = np.diff(v)
    noise = 1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2) if len(v) >= 3 else 0.0
    required = max(0.25, 0.05 * peak, 3 * noise)
    return peak - final, required, peak - final > required


def test_estimator_comparison_of_a_run(infoplane, tmp_path):
    out = tmp_path / "run"
    run(infoplane, "train", "--task", "tishby", "--epochs", "120", "--seed", "3", "--out", out)
    manifest = json.loads((out / "manifest.json").read_text())
    epochs = manifest["recorded_epochs"][::8]
    result = run(infoplane, "estimate", out, "--estimator", "all", "--epochs", ",".join(map(str, epochs)))
    assert [line.rsplit("/", 1)[-1] for line in result.stdout.split()] == ["mi-binning.csv", "mi-kde.csv", "mi-knn.csv"]
    # The 12-bit task's inputs are binary: KSG's I(X;T) is flagged as meaningless there…
    assert "inputs of" in result.stderr and "are discrete" in result.stderr
    # … and with a noise variance, X is read as discrete instead, without a warning.
    noisy = run(infoplane, "estimate", out, "--estimator", "knn", "--knn-noise-variance", "0.1", "--epochs",
                ",".join(map(str, epochs[-2:])), "-o", tmp_path / "noisy.csv")
    assert "are discrete" not in noisy.stderr
    assert json.loads((tmp_path / "noisy.json").read_text())["inputs"].startswith("discrete")

    figure = tmp_path / "compare.png"
    result = run(infoplane, "plot", "infoplane", out, "--compare-estimators", "-o", figure)
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "The verdict depends on the estimator for" in result.stdout
    rows = list(csv.DictReader(open(tmp_path / "compare-verdicts.csv")))
    layers = len(manifest["layers"])
    assert len(rows) == 3 * layers
    for name, column in (("binning", "I_XT"), ("kde", "I_XT_upper"), ("knn", "I_XT")):
        table = read_table(out / f"mi-{name}.csv")
        for layer in range(1, layers + 1):
            curve = [table[(e, layer)][column] for e in epochs]
            drop, required, compressed = rule_verdict(curve)
            row = next(r for r in rows if r["estimator"] == name and int(r["layer"]) == layer)
            assert float(row["drop"]) == pytest.approx(drop, abs=1e-12)
            assert float(row["required"]) == pytest.approx(required, abs=1e-12)
            assert (row["compressed"] == "true") == compressed

    result = run(infoplane, "plot", "infoplane", out, "--compare-estimators", "--estimate", "kde", "-o", figure, check=False)
    assert result.returncode != 0 and "--estimate" in result.stderr
