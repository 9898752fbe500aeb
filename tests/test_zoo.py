from __future__ import annotations

import pytest
import torch

from app.config import Settings
from app.zoo import Zoo
from app.zoo.manifest import read_generators, read_manifest, sha256_file


def test_manifest_weights_match_their_checksums(settings) -> None:
    for spec in read_manifest(settings.models_dir):
        if spec.weights.file:
            assert sha256_file(settings.models_dir / spec.weights.file) == spec.weights.sha256
            assert spec.metrics["seed"] == 0 and len(spec.metrics["data_sha256"]) == 4
            assert spec.classes and len(spec.classes) == (2 if spec.guards else 10)  # a detector: clean or not
    for gan in read_generators(settings.models_dir):
        for ref in (gan.generator, gan.discriminator):
            assert sha256_file(settings.models_dir / ref.file) == ref.sha256
        # the run's own command: a setting it changed with --set then became the recipe's
        assert gan.metrics["seed"] == 0 and gan.metrics["command"].startswith(f"advlab train {gan.name} --seed 0")


def test_models_are_frozen_in_eval_mode_and_take_pixels(components) -> None:
    for entry in components.zoo.entries.values():
        if not entry.available:
            continue
        model = entry.model
        assert not model.training
        assert not any(p.requires_grad for p in model.parameters())
        c, h, w = entry.spec.input_shape
        x = torch.rand(2, c, h, w)  # pixels in [0,1]; normalisation is inside the model
        with torch.no_grad():
            assert model(x).shape == (2, len(entry.classes))


def test_missing_imagenet_weights_leave_the_model_listed_as_unavailable(settings) -> None:
    zoo = Zoo.load(Settings(**{**settings.model_dump(), "local_weights": {}, "allow_downloads": False}))
    entry = zoo.entries["imagenet-squeezenet"]
    assert not entry.available and "ADVLAB_LOCAL_WEIGHTS" in entry.reason
    assert zoo.entries["mnist-cnn"].available


def test_changed_weights_file_is_refused(settings, tmp_path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "manifest.json").write_text((settings.models_dir / "manifest.json").read_text())
    (models / "mnist-mlp.safetensors").write_bytes(b"not the trained weights")
    zoo = Zoo.load(Settings(**{**settings.model_dump(), "models_dir": models}))
    assert "sha256" in zoo.entries["mnist-mlp"].reason
    assert "missing" in zoo.entries["mnist-cnn"].reason


def test_local_weights_setting_parses_name_equals_path(monkeypatch) -> None:
    monkeypatch.setenv("ADVLAB_LOCAL_WEIGHTS", "imagenet-squeezenet=/w/a.pth, other=/w/b.pth")
    parsed = {k: str(v) for k, v in Settings().local_weights.items()}
    assert parsed == {"imagenet-squeezenet": "/w/a.pth", "other": "/w/b.pth"}


def test_local_weights_setting_refuses_a_bad_value(monkeypatch) -> None:
    monkeypatch.setenv("ADVLAB_LOCAL_WEIGHTS", "just-a-path.pth")
    with pytest.raises(ValueError, match="name=/path"):
        Settings()


def test_loading_only_some_models(settings) -> None:
    zoo = Zoo.load(settings, only={"mnist-mlp"})
    assert list(zoo.entries) == ["mnist-mlp"] and zoo.entries["mnist-mlp"].available
