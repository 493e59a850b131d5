"""`infoplane sweep`: bad sweep files fail at `plan` naming the key; the same
sweep run locally and as Slurm job arrays (on the single-node cluster of
scripts/slurm-local.sh, real Slurm, not a mock) gives the same bytes; a
cancelled training task resumed with `sweep resume` ends with the same bytes;
a run that fails is reported by `sweep status` without blocking the others.

The Slurm tests start the local cluster when it is not running (and stop it
again afterwards); where it cannot be started (no root, no apt) they are
skipped, unless INFOPLANE_REQUIRE_SLURM=1 (as .ci/run sets), when they fail.
"""
import json
import os
import pathlib
import subprocess
import time

import pytest

from conftest import ROOT, run

SCRIPT = ROOT / "scripts" / "slurm-local.sh"


@pytest.fixture(scope="module")
def slurm():
    running = subprocess.run([SCRIPT, "status"], capture_output=True, text=True).returncode == 0
    if not running:
        started = subprocess.run([SCRIPT, "start"], capture_output=True, text=True)
        if started.returncode != 0:
            message = f"the local Slurm cluster did not start:\n{started.stderr}"
            if os.environ.get("INFOPLANE_REQUIRE_SLURM") == "1":
                pytest.fail(message)
            pytest.skip(message)
    yield
    if not running:
        stopped = subprocess.run([SCRIPT, "stop"], capture_output=True, text=True)
        assert stopped.returncode == 0, stopped.stderr


def write_sweep(path, **content):
    path.write_text(json.dumps(content, indent=2))
    return path


def tree(directory, skip=("slurm", "shards", "failed")):
    """Every file under `directory` (relative path → bytes), outside `skip`."""
    files = {}
    for p in sorted(directory.rglob("*")):
        rel = p.relative_to(directory)
        if p.is_file() and rel.parts[0] not in skip:
            files[str(rel)] = p.read_bytes()
    return files


def assert_same_trees(a, b):
    ta, tb = tree(a), tree(b)
    assert sorted(ta) == sorted(tb)
    different = [name for name in ta if ta[name] != tb[name]]
    assert not different, f"files differ between {a} and {b}: {different}"


def queued(name):
    out = subprocess.run(["squeue", "-h", "-o", "%i", "-n", ",".join(f"{name}-{s}" for s in ("train", "estimate", "final"))],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def test_bad_sweep_files_fail_at_plan_naming_the_key(infoplane, tmp_path):
    cases = [
        ({"settings": {"colour": "red"}}, "settings.colour: unknown training setting"),
        ({"axes": {"seed": []}}, "axes.seed: an axis needs at least one value"),
        ({"axes": {"seed": [1, "two"]}}, "axes.seed[1]: expected an integer, found a string"),
        ({"settings": {"epochs": "many"}}, "settings.epochs: expected an integer, found a string"),
        ({"axes": {"activation": ["tanh", "tanhh"]}}, "axes.activation[1]: unknown activation \"tanhh\""),
        ({"settings": {"lr": -1}}, "settings.lr: --lr must be positive"),
        ({"estimates": [{"estimator": "kde", "bound": "middle"}]}, "estimates[0].bound: --bound must be upper, lower or both"),
        ({"estimates": [{"estimator": "binning", "discretization": "uniform"}]}, "estimates[0].discretization: uniform binning needs --lower < --upper"),
    ]
    for i, (content, message) in enumerate(cases):
        path = write_sweep(tmp_path / f"bad{i}.json", **content)
        for command in ("plan", "run"):
            result = run(infoplane, "sweep", command, path, check=False)
            assert result.returncode != 0, content
            assert f"{path}: {message}" in result.stderr, (content, result.stderr)
        assert not (tmp_path / f"bad{i}").exists()
    (tmp_path / "syntax.json").write_text('{\n  "axes": {"seed": [1 2]}\n}\n')
    result = run(infoplane, "sweep", "plan", tmp_path / "syntax.json", check=False)
    assert result.returncode != 0 and "line 2, column 23" in result.stderr, result.stderr


def test_plan_names_run_directories_from_the_settings(infoplane, tmp_path):
    path = write_sweep(tmp_path / "grid.json", settings={"epochs": 20, "record": "every:5"},
                       axes={"weight-decay": ["decoupled:1e-4", "l2:0.01"], "seed": [7, 8]},
                       estimates=[{"estimator": "binning"}], slurm={"epochs-per-shard": 2})
    first = run(infoplane, "sweep", "plan", path).stdout
    assert run(infoplane, "sweep", "plan", path).stdout == first
    for name in ("weight-decay-decoupled_1e-4_seed-7", "weight-decay-decoupled_1e-4_seed-8",
                 "weight-decay-l2_0.01_seed-7", "weight-decay-l2_0.01_seed-8"):
        assert f"{tmp_path}/grid/runs/{name}  5 recorded epochs" in first
    assert "estimate: 12 tasks (up to 2 recorded epochs each)" in first  # 4 runs x 3 shards of 0,5 / 10,15 / 20
    assert not (tmp_path / "grid").exists()


SMALL = dict(settings={"task": "tishby", "epochs": 200, "record": "every:20"},
             axes={"activation": ["tanh", "relu"], "seed": [1, 2, 3]},
             estimates=[{"estimator": "binning"}, {"estimator": "kde", "noise-variance": 0.1}],
             audit={"estimate": "binning"},
             slurm={"epochs-per-shard": 4, "throttle": 4, "mem": "500M", "time": "00:10:00"})


def test_slurm_and_local_sweeps_give_the_same_bytes(infoplane, slurm, tmp_path):
    path = write_sweep(tmp_path / "small.json", **SMALL)
    sweep = tmp_path / "small"
    run(infoplane, "sweep", "run", path, "--executor", "local")
    local = tmp_path / "small-local"
    sweep.rename(local)
    assert len(list((local / "figures").glob("*.png"))) == 12
    assert (local / "audit" / "audit.md").exists()

    # The dry run's scripts pass sbatch --test-only; nothing is submitted.
    run(infoplane, "sweep", "run", path, "--executor", "slurm", "--dry-run")
    for script in ("train", "estimate", "final"):
        test = subprocess.run(["sbatch", "--test-only", sweep / "slurm" / f"{script}.sbatch"], capture_output=True, text=True)
        assert test.returncode == 0 and "to start at" in test.stderr, test.stderr
    assert queued("small") == []
    assert (sweep / "slurm" / "estimate.tasks").read_text().count("\n") == 36  # 6 runs x 2 estimates x 3 shards

    out = run(infoplane, "sweep", "run", path, "--executor", "slurm", "--wait").stdout
    assert "6 of 6 runs done, 12 of 12 tables done, figures and audit done" in out
    assert_same_trees(local, sweep)
    assert len(list((sweep / "shards").rglob("*.csv"))) == 36
    assert run(infoplane, "sweep", "status", path).returncode == 0


def manifest(run_directory):
    try:
        return json.loads((run_directory / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def test_a_cancelled_task_resumes_to_the_same_bytes(infoplane, slurm, tmp_path):
    path = write_sweep(tmp_path / "long.json", settings={"epochs": 2000, "record": "every:100", "checkpoint-interval": 50},
                       axes={"seed": [4]}, estimates=[{"estimator": "binning"}])
    sweep = tmp_path / "long"
    run(infoplane, "sweep", "run", path, "--executor", "local")
    local = tmp_path / "long-local"
    sweep.rename(local)

    run(infoplane, "sweep", "run", path, "--executor", "slurm")
    run_directory = sweep / "runs" / "seed-4"
    # Cancel the training task once it has checkpointed and before it ends.
    while True:
        m = manifest(run_directory)
        if m is not None and m["complete"]:
            pytest.fail("the run ended before it could be cancelled")
        if m is not None and (m.get("checkpoint_epoch") or 0) >= 50:
            break
        time.sleep(0.05)
    subprocess.run(["scancel", "-n", "long-train"], check=True)
    while queued("long"):
        time.sleep(0.5)
    m = manifest(run_directory)
    assert not m["complete"] and 0 < m["epochs_completed"] < 2000

    status = run(infoplane, "sweep", "status", path, check=False)
    assert status.returncode == 1
    assert f"seed-4  partial (epoch {m['epochs_completed']} of 2000)" in status.stdout, status.stdout
    # The estimate task ran after the cancelled one (afterany) and failed naming why.
    assert "binning: failed" in status.stdout
    records = [p.read_text() for p in (sweep / "failed").iterdir()]
    assert any("run seed-4 is not complete" in r for r in records), records

    out = run(infoplane, "sweep", "resume", path, "--wait").stdout
    assert "Submitted train" in out and "1 of 1 runs done, 1 of 1 tables done" in out
    assert_same_trees(local, sweep)
    assert not any((sweep / "failed").iterdir())
    # Nothing is missing now: resume submits nothing.
    assert "nothing to submit" in run(infoplane, "sweep", "resume", path).stdout


def write_12bit(directory, bad_line=None):
    directory.mkdir()
    rows = [[(i >> b) & 1 for b in range(12)] for i in range(4096)]
    (directory / "x.csv").write_text("".join(",".join(map(str, r)) + "\n" for r in rows))
    labels = [str((sum(r[:6]) + r[11]) % 2) for r in rows]
    if bad_line is not None:
        labels[bad_line] = "2"
    (directory / "y.csv").write_text("\n".join(labels) + "\n")


def test_a_failing_run_is_reported_and_does_not_block_the_others(infoplane, slurm, tmp_path):
    write_12bit(tmp_path / "good")
    write_12bit(tmp_path / "bad", bad_line=99)
    path = write_sweep(tmp_path / "mixed.json", settings={"epochs": 100, "record": "every:25"},
                       axes={"data": [str(tmp_path / "good"), str(tmp_path / "bad")], "seed": [1, 2]},
                       estimates=[{"estimator": "binning"}], audit=True)
    sweep = tmp_path / "mixed"
    for executor in ("slurm", "local"):
        args = ["--executor", executor] + (["--wait"] if executor == "slurm" else [])
        result = run(infoplane, "sweep", "run", path, *args, check=False)
        assert result.returncode == 1, result.stderr
        good = [sweep / "runs" / f"data-{str(tmp_path / 'good').replace('/', '_')}_seed-{s}" for s in (1, 2)]
        for g in good:
            assert manifest(g)["complete"]
            assert (g / "mi-binning.csv").exists()
            assert (sweep / "figures" / f"{g.name}-binning.png").exists()
        status = run(infoplane, "sweep", "status", path, check=False)
        assert status.returncode == 1
        assert "2 of 4 runs done, 2 of 4 tables done" in status.stdout, status.stdout
        bad = f"data-{str(tmp_path / 'bad').replace('/', '_')}_seed-1"
        assert any(line.split()[:2] == [bad, "failed"] for line in status.stdout.splitlines()), status.stdout
        # The error names the file and line, and (on Slurm) the log's last lines follow it.
        assert f"{bad}: {tmp_path}/bad/y.csv: line 100" in status.stdout, status.stdout
        if executor == "slurm":
            assert f"log {sweep}/slurm/logs/train-2.out" in status.stdout, status.stdout
        assert "the audit (waits for mi-binning.csv of" in status.stdout
        if executor == "slurm":
            sweep.rename(tmp_path / "mixed-slurm")
    assert_same_trees(tmp_path / "mixed-slurm", sweep)


def cluster_processes():
    names = {"munged", "slurmctld", "slurmd", "slurmstepd", "slurmscriptd"}
    out = subprocess.run(["ps", "-eo", "comm="], capture_output=True, text=True, check=True).stdout
    return sorted(name for name in out.split() if name in names)


def test_the_local_cluster_stops_without_a_daemon_left_and_starts_again(slurm):
    stopped = subprocess.run([SCRIPT, "stop"], capture_output=True, text=True)
    assert stopped.returncode == 0, stopped.stderr
    assert cluster_processes() == []
    assert subprocess.run([SCRIPT, "status"], capture_output=True, text=True).returncode == 1
    started = subprocess.run([SCRIPT, "start"], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    assert "idle" in subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, check=True).stdout
    assert set(cluster_processes()) >= {"munged", "slurmctld", "slurmd"}
