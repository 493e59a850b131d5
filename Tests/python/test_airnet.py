"""`infoplane simulate air` and `train --task air` from the command line: the
archive's layout, same seed same bytes, a run that `estimate` reads, and bad
options refused with a non-zero exit naming them."""
import json

import numpy as np

from conftest import run


def test_simulate_writes_the_layout_and_train_writes_an_estimable_run(infoplane, tmp_path):
    args = ("simulate", "air", "--grid", "8", "--years", "1.2", "--stations", "5", "--seed", "3")
    run(infoplane, *args, "-o", tmp_path / "a.npz")
    run(infoplane, *args, "-o", tmp_path / "b.npz", "--figure", tmp_path / "b.png")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert (tmp_path / "a-frames.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "b.png").exists()
    z = np.load(tmp_path / "a.npz")
    t = int(round(1.2 * 365 * 8))
    assert z["field"].shape == (8, 8, t, 7) and z["field"].dtype == np.float32
    assert z["forecast_meteorology"].shape == (8, 8, t, 6) and z["stations"].shape == (5, 2)
    assert bytes(z["feature_names"]).decode().split(",")[-1] == "pm"
    assert json.loads(bytes(z["settings"]).decode())["seed"] == 3
    assert (z["field"][..., 6] >= 0).all() and len(z["substeps"]) == t

    out = tmp_path / "run"
    run(infoplane, "train", "--task", "air", "--field", tmp_path / "a.npz", "--epochs", "2", "--out", out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["settings"]["task"] == "air"
    assert [l["name"] for l in manifest["layers"]] == ["cell state", "hidden state"]
    cell = np.load(out / "activations" / "epoch-2-layer-1.npy")
    assert cell.shape == (manifest["sample_count"], 24) and (cell >= 0).all()
    run(infoplane, "estimate", out)
    table = np.genfromtxt(out / "mi-binning.csv", delimiter=",", names=True)
    assert len(table) == 3 * 2 and np.isfinite(table["I_TY"]).all()


def test_bad_options_and_files_are_refused(infoplane, tmp_path):
    for args, words in [
        (("simulate", "air", "--grid", "2", "--seed", "1", "-o", tmp_path / "x.npz"), "grid"),
        (("simulate", "air", "--seed", "1", "-o", tmp_path / "x.txt"), ".npz"),
        (("simulate", "air", "--seed", "1", "--boundary", "wavy", "-o", tmp_path / "x.npz"), "--boundary"),
        (("simulate", "water", "--seed", "1", "-o", tmp_path / "x.npz"), "water"),
        (("train", "--task", "air", "--hidden", "3", "--out", tmp_path / "r"), "--hidden"),
    ]:
        result = run(infoplane, *args, check=False)
        assert result.returncode != 0 and words in result.stderr, (args, result.stderr)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    result = run(infoplane, "train", "--task", "air", "--field", tmp_path / "bad.npz", "--out", tmp_path / "r", check=False)
    assert result.returncode != 0 and str(tmp_path / "bad.npz") in result.stderr
