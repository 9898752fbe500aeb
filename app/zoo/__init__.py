"""The model zoo: every classifier in models/manifest.json, loaded once, frozen, on one device.
(The GANs in the same manifest are app/gan/zoo.py's Generators.)

A model that cannot be loaded (no weights, a changed file) stays listed with the reason, and the
app starts without it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file

from app.config import Settings
from app.errors import ModelUnavailable, NotFound
from app.zoo.architectures import Classifier, build_classifier
from app.zoo.device import resolve_device
from app.zoo.manifest import ModelSpec, read_manifest, sha256_file

log = logging.getLogger(__name__)


@dataclass
class ZooEntry:
    spec: ModelSpec
    classes: list[str]
    model: Classifier | None = None
    weights_source: str | None = None  # where the weights came from, for the models listing
    reason: str | None = None  # why the model is unavailable

    @property
    def available(self) -> bool:
        return self.model is not None


class Zoo:
    def __init__(self, entries: list[ZooEntry], device: torch.device) -> None:
        self.entries = {e.spec.name: e for e in entries}
        self.device = device

    @classmethod
    def load(cls, settings: Settings, only: Collection[str] | None = None) -> Zoo:
        """Every served classifier in the manifest, or just those named in ``only`` (an unserved one,
        such as the judge of generated digits, is loaded only when named)."""
        device = resolve_device(settings.device)
        specs = [s for s in read_manifest(settings.models_dir) if (s.served if only is None else s.name in only)]
        return cls([_load_entry(spec, settings, device) for spec in specs], device)

    def entry(self, name: str) -> ZooEntry:
        if name not in self.entries:
            raise NotFound(f"There is no model {name[:80]!r}. Known models: {', '.join(self.entries)}.")
        return self.entries[name]

    def model(self, name: str) -> tuple[ZooEntry, Classifier]:
        """The entry and its loaded model, or a 503 saying why it is unavailable."""
        entry = self.entry(name)
        if entry.model is None:
            raise ModelUnavailable(f"The model {name} is not available on this server: {entry.reason}")
        return entry, entry.model


def _load_entry(spec: ModelSpec, settings: Settings, device: torch.device) -> ZooEntry:
    entry = ZooEntry(spec, classes=spec.classes or _torchvision_classes(spec))
    norm = spec.normalization
    model = build_classifier(spec.architecture, spec.config, norm.mean, norm.std)
    try:
        state, entry.weights_source = _weights(spec, settings)
        target = model.net if spec.weights.torchvision else model
        target.load_state_dict(state, strict=True)
    except (OSError, RuntimeError, ValueError) as exc:
        entry.reason = str(exc)
        log.warning("model %s unavailable: %s", spec.name, exc)
        return entry
    model.eval().requires_grad_(False)
    entry.model = model.to(device).use_channels_last()
    return entry


def _weights(spec: ModelSpec, settings: Settings) -> tuple[dict[str, torch.Tensor], str]:
    """The state dict and a note on where it came from: local file > models/ file > torchvision."""
    local = settings.local_weights.get(spec.name)
    if local:
        return _read_local(Path(local)), f"local file {Path(local).name}"
    if spec.weights.file:
        path = settings.models_dir / spec.weights.file
        if not path.exists():
            raise OSError(f"weights file {spec.weights.file} is missing from {settings.models_dir}")
        if spec.weights.sha256 and sha256_file(path) != spec.weights.sha256:
            raise ValueError(f"{spec.weights.file} does not match the sha256 in the manifest")
        return load_file(str(path)), spec.weights.file
    if not settings.allow_downloads:
        raise OSError(
            f"downloads are off (ADVLAB_ALLOW_DOWNLOADS=0) and no local file is set "
            f"(ADVLAB_LOCAL_WEIGHTS={spec.name}=/path/to/weights)"
        )
    try:
        state = _torchvision_weights(spec).get_state_dict(progress=False, check_hash=True)
    except OSError as exc:
        raise OSError(
            f"could not download torchvision's weights ({exc}); without internet, set "
            f"ADVLAB_LOCAL_WEIGHTS={spec.name}=/path/to/weights"
        ) from exc
    return state, f"torchvision {spec.weights.torchvision}"


def _read_local(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


def _torchvision_weights(spec: ModelSpec):
    from torchvision.models import get_weight

    return get_weight(spec.weights.torchvision)


def _torchvision_classes(spec: ModelSpec) -> list[str]:
    return list(_torchvision_weights(spec).meta["categories"])
