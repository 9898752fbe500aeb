"""CycleGAN between faces that do not smile and faces that smile: the networks and losses, training
in dry-run size over the CLI (and resuming it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from app.gan.cycle import PatchDiscriminator, Translator, TranslatorConfig, cycle_error, cycle_loss, lsgan_loss
from app.training import RESUMABLE, TRAINERS, WITH_EPOCHS
from tests.conftest import ROOT

NAME = "cyclegan-faces"


def advlab(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    """The CLI of this checkout (python -m app.cli from the repository root)."""
    env = {**os.environ, "ADVLAB_ALLOW_DOWNLOADS": "0", "ADVLAB_DATA_DIR": str(data_dir), "ADVLAB_DEVICE": "cpu"}
    cmd = [sys.executable, "-m", "app.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def faces_dir(data_dir: Path) -> Path:
    if not (data_dir / "celeba-10k").is_dir() and not (data_dir / "celeba").is_dir():
        pytest.skip("CelebA is not in the data dir")
    return data_dir


def test_the_networks_keep_the_picture_shape_and_range() -> None:
    cfg = TranslatorConfig()
    x = torch.rand(2, 3, 64, 64)
    g = Translator(cfg).eval()
    y = g(x)
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    assert PatchDiscriminator(cfg)(x).shape == (2, 1, 8, 8)  # one score per patch
    size = sum(p.numel() for p in g.parameters()) * 4
    assert size < 4e6  # float32 bytes: each translator under 4 MB
    assert set(cfg.to_dict()) == {"channels", "side", "width", "downs", "blocks", "d_width", "d_layers"}


def test_the_cycle_loss_is_the_mean_absolute_pixel_difference() -> None:
    x = torch.zeros(2, 3, 4, 4)
    back = x.clone()
    back[0] += 0.5  # the first picture comes back 0.5 off everywhere, the second exactly
    assert float(cycle_loss(x, x)) == 0
    assert float(cycle_loss(x, back)) == pytest.approx(0.25)
    assert cycle_error(x, back).tolist() == pytest.approx([0.5, 0.0])
    assert float(lsgan_loss(torch.ones(3), True)) == 0 and float(lsgan_loss(torch.ones(3), False)) == 1


def test_it_is_trainable_with_epochs_and_resume() -> None:
    assert NAME in TRAINERS and NAME in WITH_EPOCHS and NAME in RESUMABLE


def test_a_dry_run_over_the_cli_writes_weights_figures_and_a_checkpoint(faces_dir, tmp_path) -> None:
    r = advlab("train", NAME, "--dry-run", "--out", str(tmp_path), data_dir=faces_dir)
    assert r.returncode == 0, r.stderr
    assert "epoch 1/1 step 3/3" in r.stdout and "cycle" in r.stdout
    (entry,) = json.loads((tmp_path / "manifest.json").read_text())["translators"]
    assert entry["name"] == NAME and "CelebA" in entry["licence"]
    for role in ("forward", "backward"):
        assert (tmp_path / entry[role]["file"]).exists()
    figures = entry["metrics"]["held_out"]["directions"]
    assert set(figures) == {"smile", "unsmile"}
    for f in figures.values():
        assert 0 <= f["flipped"] <= 1 and 0 < f["cycle_l1"] < 1 and "Male" in f["others_kept"]
    assert (tmp_path / f"{NAME}-checkpoint.pt").exists()
    again = advlab("train", NAME, "--dry-run", "--out", str(tmp_path), "--resume", "--epochs", "2", data_dir=faces_dir)
    assert again.returncode == 0, again.stderr
    assert "resumed from" in again.stdout and "epoch 2/2 step 3/3" in again.stdout
