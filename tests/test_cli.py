"""The ``advlab`` console script, run as a user would."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from app.config import ROOT
from app.training.classifiers import RECIPES

ADVLAB = str(ROOT / ".venv" / "bin" / "advlab")


def advlab(*args: str, data_dir=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "ADVLAB_ALLOW_DOWNLOADS": "0"}
    if data_dir:
        env["ADVLAB_DATA_DIR"] = str(data_dir)
    return subprocess.run([ADVLAB, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_train_dry_run(name: str, data_dir, tmp_path) -> None:
    r = advlab("train", name, "--dry-run", "--out", str(tmp_path), data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    assert "epoch 1/1 step 3/3" in r.stdout and "test accuracy" in r.stdout
    assert (tmp_path / f"{name}.safetensors").exists()


def test_eval_mnist_cnn_meets_its_target(data_dir) -> None:
    r = advlab("eval", "mnist-cnn", data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    accuracy = float(re.search(r"test accuracy ([\d.]+)% on 10000", r.stdout).group(1))
    assert accuracy >= 99.0


def test_unknown_model_is_refused() -> None:
    r = advlab("train", "nope")
    assert r.returncode == 2 and "trainable" in r.stderr


def test_data_from_a_folder_is_idempotent(data_dir) -> None:
    r = advlab("data", "--from", str(ROOT.parent / "shared" / "data"), data_dir=data_dir)
    assert r.returncode == 0 and "datasets ready" in r.stdout


@pytest.mark.parametrize("name", ["dcgan-mnist", "dcgan-mnist-cond", "dcgan-faces", "mnist-detector"])
def test_gan_and_detector_training_dry_runs(name: str, data_dir, tmp_path) -> None:
    r = advlab("train", name, "--dry-run", "--out", str(tmp_path), data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    assert any(p.suffix == ".safetensors" for p in tmp_path.iterdir())
    assert ("Fréchet distance" in r.stdout) if name.startswith("dcgan") else ("false alarms" in r.stdout)


@pytest.mark.parametrize("name", ["robustness", "transfer", "shortcut"])
def test_experiment_quick_runs(name: str, data_dir, tmp_path) -> None:
    r = advlab("experiment", name, "--quick", "--out", str(tmp_path), data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    saved = json.loads((tmp_path / f"{name}.json").read_text())
    assert saved["kind"] == name and saved["result"]
