"""`infoplane train --task translation` and `infoplane translate` end to end, at
a small scale: the run directory opens in NumPy, a killed run resumes to the
bytes of an uninterrupted one, a NAT trains on a teacher's distilled targets,
and every decoder translates standard input and files."""
import json
import subprocess
import time

import numpy as np
import pytest

from conftest import kill_and_resume, run

CORPUS = "synthetic:3:1500:40:40"
COMMON = ["--task", "translation", "--corpus", CORPUS, "--warmup", 20, "--seed", 4, "--checkpoint-interval", 1]


@pytest.fixture(scope="module")
def runs(infoplane, tmp_path_factory):
    root = tmp_path_factory.mktemp("translation")
    run(infoplane, "train", *COMMON, "--model", "teacher", "--epochs", 4, "--out", root / "teacher")
    run(infoplane, "train", *COMMON, "--model", "nat", "--teacher", root / "teacher", "--epochs", 2, "--out", root / "nat")
    return root


def files(directory):
    return {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*")
            if p.is_file() and p.name != "timing.csv"}


def test_the_runs_open_in_numpy(runs):
    for name, epochs in (("teacher", 4), ("nat", 2)):
        manifest = json.loads((runs / name / "manifest.json").read_text())
        assert manifest["complete"] and manifest["epochs_completed"] == epochs
        subject = manifest["settings"]["subject"]
        assert subject["model"] == name
        weights = np.load(runs / name / "weights.npz")
        assert all(np.isfinite(weights[k]).all() for k in weights.files)
        # Encoder and decoder layers recorded per token of the probe set, at every epoch.
        labels = np.load(runs / name / "labels.npy")
        for epoch in manifest["recorded_epochs"]:
            for layer in range(1, len(manifest["layers"]) + 1):
                t = np.load(runs / name / "activations" / f"epoch-{epoch}-layer-{layer}.npy")
                assert t.ndim == 2 and np.isfinite(t).all()
        assert labels.ndim == 1 and labels.min() >= 0
    # The NAT's encoder starts as the teacher's: identical names and shapes.
    teacher, nat = np.load(runs / "teacher" / "weights.npz"), np.load(runs / "nat" / "weights.npz")
    encoder = [k for k in teacher.files if k.startswith("encoder.")]
    assert encoder and all(teacher[k].shape == nat[k].shape for k in encoder)


def test_a_killed_teacher_run_resumes_to_the_same_bytes(infoplane, runs, tmp_path):
    killed = tmp_path / "killed"
    command = [infoplane, "train", *map(str, COMMON), "--model", "teacher", "--epochs", "4", "--out", str(killed)]
    rng = np.random.default_rng(int(time.time()))
    interrupted = kill_and_resume(infoplane, command, killed, attempts=3, max_delay=1.0, rng=rng)
    assert interrupted >= 1, "every kill came after the run had finished"
    run(infoplane, "train", "--resume", killed)
    whole, resumed = files(runs / "teacher"), files(killed)
    assert sorted(whole) == sorted(resumed)
    for name, content in whole.items():
        assert resumed[name] == content, f"{name} differs after kill -9 and resume"


def test_every_decoder_translates_and_greedy_equals_beam_one(infoplane, runs, tmp_path):
    sentences = ["the small dog sees a red house .", "a cat runs", "zebra quux ."]
    source = tmp_path / "source.txt"
    source.write_text("".join(s + "\n" for s in sentences))
    outputs = {}
    for model, decoder, extra in (("teacher", "ar-greedy", []), ("teacher", "ar-beam", []), ("teacher", "ar-beam", ["--beam", 1]),
                                  ("nat", "nat", []), ("nat", "nat-average", []), ("nat", "npd", ["--samples", 5])):
        out = tmp_path / f"{decoder}-{len(extra)}.txt"
        run(infoplane, "translate", runs / model, "--decoder", decoder, *extra, "--input", source, "--output", out)
        lines = out.read_text().split("\n")
        assert lines[-1] == "" and len(lines) == len(sentences) + 1
        outputs[(decoder, tuple(map(str, extra)))] = lines[:-1]
    assert outputs[("ar-beam", ("--beam", "1"))] == outputs[("ar-greedy", ())]
    # Standard input gives what the file gave.
    piped = subprocess.run([infoplane, "translate", str(runs / "teacher")], input=source.read_text(),
                           capture_output=True, text=True, check=True)
    assert piped.stdout.split("\n")[:-1] == outputs[("ar-greedy", ())]
    # Same seed, same samples.
    again = tmp_path / "again.txt"
    run(infoplane, "translate", runs / "nat", "--decoder", "npd", "--samples", 5, "--input", source, "--output", again)
    assert again.read_text().split("\n")[:-1] == outputs[("npd", ("--samples", "5"))]


def test_bad_translation_requests_fail_clearly(infoplane, runs, tmp_path):
    cases = [
        (["train", *COMMON, "--model", "nat", "--epochs", 1, "--out", tmp_path / "a"], "teacher"),
        (["train", *COMMON, "--model", "student", "--epochs", 1, "--out", tmp_path / "b"], "student"),
        (["train", "--task", "translation", "--corpus", "klingon:1", "--epochs", 1, "--out", tmp_path / "c"], "klingon"),
        (["translate", runs / "teacher", "--decoder", "nat"], "nat"),
        (["translate", runs / "nat", "--decoder", "sideways"], "sideways"),
        (["translate", tmp_path / "missing"], "missing"),
    ]
    for args, word in cases:
        result = run(infoplane, *args, check=False)
        assert result.returncode != 0, args
        assert word in result.stderr, (args, result.stderr)
    assert not (tmp_path / "a" / "manifest.json").exists()
