"""`infoplane audit` from the command line: bad input is refused naming the run,
and the outputs of a small linear run agree with its CSV files."""
import csv

from conftest import run


def test_audit_names_a_directory_that_is_not_a_run(infoplane, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(infoplane, "audit", empty, "--output", tmp_path / "out", check=False)
    assert result.returncode != 0
    assert str(empty) in result.stderr and "not a run" in result.stderr
    result = run(infoplane, "audit", tmp_path / "missing", "--output", tmp_path / "out", check=False)
    assert result.returncode != 0 and "no such run directory" in result.stderr


def test_audit_of_a_quick_linear_experiment(infoplane, tmp_path):
    run(infoplane, "reproduce", "saxe2018", "--experiment", "linear", "--scale", "quick", "--epochs", "30",
        "--runs", tmp_path / "runs", "--figures", tmp_path / "figures", "--workers", 1)
    linear = tmp_path / "runs" / "saxe2018" / "linear" / "gd-seed-1"
    out = run(infoplane, "audit", linear, "--output", tmp_path / "out", "--seed", 3).stdout
    assert "Spearman" in out
    rows = list(csv.DictReader(open(tmp_path / "out" / "audit.csv")))
    metrics = list(csv.DictReader(open(linear / "metrics.csv")))
    gap = float(metrics[-1]["test_error"]) - float(metrics[-1]["train_error"])
    assert [int(r["layer"]) for r in rows] == [1, 2]
    for r in rows:
        assert abs(float(r["error_gap"]) - gap) < 1e-12
        assert abs(float(r["loss_gap"]) - gap / 2) < 1e-12
    for name in ["audit.md", "audit.png"]:
        assert (tmp_path / "out" / name).exists()
