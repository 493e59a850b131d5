"""The progressive GAN from the command line: `train --task progan` on a
user's .npy image set, then `sample` read back with NumPy."""
import json
import struct

import numpy as np

from conftest import run


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


def tiny_run(infoplane, tmp_path):
    """12 steps on 24 random 6x6 uint8 images (padded to 8x8): two stages."""
    images = np.random.default_rng(3).integers(0, 256, size=(24, 6, 6), dtype=np.uint8)
    np.save(tmp_path / "images.npy", images)
    out = tmp_path / "run"
    run(infoplane, "train", "--task", "progan", "--images", tmp_path / "images.npy", "--images-per-phase", 32,
        "--batch-size", 8, "--seed", 2, "--out", out)
    return out


def test_train_writes_a_progan_run_and_sample_writes_a_loadable_npy(infoplane, tmp_path):
    out = tiny_run(infoplane, tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["task"] == "progan" and manifest["complete"] and manifest["steps_completed"] == 12
    assert manifest["settings"]["architecture"]["feature_maps"] == [64, 64]
    metrics = np.genfromtxt(out / "metrics.csv", delimiter=",", names=True)
    assert len(metrics) == 12 and list(metrics["images_shown"][:2]) == [8, 16]
    assert set(metrics["resolution"]) == {4, 8}
    for name in ("reals.png", "samples-4x4.png", "samples-8x8.png"):
        assert (out / "grids" / name).exists()

    run(infoplane, "sample", out, "--count", 5, "--seed", 7, "--nrow", 3, "--padding", 1,
        "-o", tmp_path / "grid.png", "--npy", tmp_path / "samples.npy")
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (5, 1, 8, 8) and samples.dtype == np.float32
    assert samples.min() >= -1 and samples.max() <= 1 and samples.std() > 0
    # make_grid: (W + p) * min(nrow, B) + p by (H + p) * ceil(B / nrow) + p.
    assert png_size(tmp_path / "grid.png") == (28, 19)

    run(infoplane, "sample", out, "--count", 5, "--seed", 7, "--npy", tmp_path / "again.npy")
    run(infoplane, "sample", out, "--count", 5, "--seed", 8, "--npy", tmp_path / "other.npy", "--normalize")
    assert np.array_equal(np.load(tmp_path / "again.npy"), samples)
    assert not np.array_equal(np.load(tmp_path / "other.npy"), samples)

    done = run(infoplane, "train", "--resume", out)
    assert "already complete" in done.stdout

    # --stage 4: the generator saved at the end of the 4x4 stage, its images
    # nearest-upscaled to 8x8 (constant 2x2 blocks); the last stage's again equals the default.
    for name in ("generator-ema-4x4.npz", "generator-ema-8x8.npz"):
        assert set(np.load(out / name).files) == set(np.load(out / "generator-ema.npz").files)
    run(infoplane, "sample", out, "--count", 5, "--seed", 7, "--stage", 4, "--npy", tmp_path / "stage4.npy")
    early = np.load(tmp_path / "stage4.npy")
    assert early.shape == (5, 1, 8, 8)
    assert np.array_equal(early, np.repeat(np.repeat(early[:, :, ::2, ::2], 2, axis=2), 2, axis=3))
    assert not np.array_equal(early, samples)
    run(infoplane, "sample", out, "--count", 5, "--seed", 7, "--stage", 8, "--npy", tmp_path / "stage8.npy")
    assert np.array_equal(np.load(tmp_path / "stage8.npy"), samples)
    missing = run(infoplane, "sample", out, "--stage", 16, "--npy", tmp_path / "x.npy", check=False)
    assert missing.returncode != 0 and "no stage 16x16 (the stages are 4x4, 8x8)" in missing.stderr

    # The critic's recordings: one ordinary run directory per stage, which `estimate` reads unchanged.
    # 24 images: a probe of 12 reals and 12 others (this set has no held-out part), 12 fakes beside each.
    critic = out / "critic-8x8"
    cm = json.loads((critic / "manifest.json").read_text())
    assert [l["name"] for l in cm["layers"]] == ["block 8x8", "4x4 conv", "4x4 dense", "score"]
    assert cm["layers"][0]["shape"] == [64, 4, 4] and cm["sample_count"] == 48 and cm["complete"]
    # Stage 8x8 starts at 32 images (the 4x4 stage's end), fades in to 64 and stabilizes to 96, half a phase = 2 steps.
    assert cm["recorded_epochs"] == [32, 48, 64, 80, 96]
    assert list(np.load(critic / "labels.npy")) == ([1] * 12 + [0] * 12) * 2
    assert np.load(critic / "activations" / "epoch-96-layer-1.npy").shape == (48, 64, 4, 4)
    run(infoplane, "estimate", critic, "--reduce", "mean-pool")
    mi = np.genfromtxt(critic / "mi-binning.csv", delimiter=",", names=True)
    assert len(mi) == 5 * 4 and set(mi["epoch"]) == {32, 48, 64, 80, 96}
    assert (mi["I_TY"] >= 0).all() and (mi["I_TY"] <= 1 + 1e-9).all()

    # The Fréchet distance needs a classifier of labelled images: this set has no labels.
    unlabelled = run(infoplane, "sample", out, "--fid", 8, check=False)
    assert unlabelled.returncode != 0 and str(tmp_path / "images.npy") in unlabelled.stderr
    assert "the images have no classes" in unlabelled.stderr
    assert not (out / "classifier.npz").exists()

    # The sliced Wasserstein distance needs 16x16 images at least: 8x8 ones are refused clearly.
    small = run(infoplane, "sample", out, "--swd", 8, check=False)
    assert small.returncode != 0 and "--swd needs images of at least 16x16 (these are 8x8)" in small.stderr


def test_an_unusable_image_set_is_an_error_naming_the_file(infoplane, tmp_path):
    np.save(tmp_path / "hwc.npy", np.zeros((4, 8, 8, 3), dtype=np.uint8))
    result = run(infoplane, "train", "--task", "progan", "--images", tmp_path / "hwc.npy", "--out", tmp_path / "r",
                 check=False)
    assert result.returncode != 0
    assert str(tmp_path / "hwc.npy") in result.stderr and "channels-last" in result.stderr
    bad = run(infoplane, "train", "--task", "progan", "--hidden", "3", "--out", tmp_path / "r2", check=False)
    assert bad.returncode != 0 and "does not take --hidden" in bad.stderr
