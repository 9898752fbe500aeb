"""Loading the manifest's ``translators`` section: both translators of each CycleGAN, frozen, in
eval mode, on the device. A missing or altered weights file leaves the entry unavailable (with the
reason) instead of stopping the app."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn

from app.config import Settings
from app.errors import ModelUnavailable, NotFound
from app.gan.cycle import Translator, TranslatorConfig, cycle_error
from app.zoo.manifest import TranslatorSpec, WeightsRef, read_translators, sha256_file

log = logging.getLogger(__name__)


@dataclass
class TranslatorEntry:
    spec: TranslatorSpec
    cfg: TranslatorConfig
    forward: nn.Module | None = None  # G: A -> B (spec.directions[0], e.g. "smile")
    backward: nn.Module | None = None  # F: B -> A (spec.directions[1], e.g. "unsmile")
    reason: str | None = None

    @property
    def available(self) -> bool:
        return self.forward is not None and self.backward is not None

    def pair(self, direction: str) -> tuple[nn.Module, nn.Module]:
        """(there, back) for a direction: (G, F) for A -> B, (F, G) for B -> A."""
        assert self.forward is not None and self.backward is not None, f"{self.spec.name}: {self.reason}"
        if direction == self.spec.directions[0]:
            return self.forward, self.backward
        if direction == self.spec.directions[1]:
            return self.backward, self.forward
        raise ValueError(f"{self.spec.name} translates {' or '.join(self.spec.directions)}, not {direction!r}")


class Translators:
    """Every translator in models/manifest.json, loaded once on one device."""

    def __init__(self, entries: list[TranslatorEntry]) -> None:
        self.entries = {e.spec.name: e for e in entries}

    @classmethod
    def load(cls, settings: Settings, device: torch.device) -> Translators:
        specs = read_translators(settings.models_dir)
        return cls([load_translator(spec, settings.models_dir, device) for spec in specs])

    def get(self, name: str) -> TranslatorEntry:
        """A loaded translator, or a 404 / 503 saying why not."""
        if name not in self.entries:
            raise NotFound(f"There is no translator {name[:80]!r}. Known translators: {', '.join(self.entries)}.")
        entry = self.entries[name]
        if not entry.available:
            raise ModelUnavailable(f"The translator {name} is not available on this server: {entry.reason}")
        return entry


def load_translator(spec: TranslatorSpec, models_dir: Path, device: torch.device) -> TranslatorEntry:
    cfg = TranslatorConfig(**spec.config)
    try:
        forward = _load(Translator(cfg), spec.forward, models_dir).to(device)
        backward = _load(Translator(cfg), spec.backward, models_dir).to(device)
    except (OSError, ValueError, RuntimeError) as exc:
        log.warning("translator %s unavailable: %s", spec.name, exc)
        return TranslatorEntry(spec, cfg, reason=str(exc))
    return TranslatorEntry(spec, cfg, forward=forward, backward=backward)


def _load(net: nn.Module, ref: WeightsRef, models_dir: Path) -> nn.Module:
    path = models_dir / str(ref.file)
    if not ref.file or not path.exists():
        raise FileNotFoundError(f"{path.name} is missing: run `advlab train` for it")
    if ref.sha256 and sha256_file(path) != ref.sha256:
        raise ValueError(f"{path.name} does not match the checksum in the manifest")
    net.load_state_dict(load_file(str(path)))
    return net.eval().requires_grad_(False)


@dataclass
class RoundTrip:
    pictures: torch.Tensor  # (3, C, H, W) in [0, 1], CPU: x, G(x), F(G(x))
    probs: torch.Tensor  # (3, A): the judge's probability of each attribute in each picture
    cycle_l1: float  # mean |F(G(x)) - x|
    change_l1: float  # mean |G(x) - x|


@torch.inference_mode()
def round_trip(entry: TranslatorEntry, judge: nn.Module, x: torch.Tensor, direction: str) -> RoundTrip:
    """One picture x (1, C, H, W) in [0, 1] there and back again, each step read by the judge
    (an attribute classifier: logits (N, A))."""
    there, back = entry.pair(direction)
    device = next(there.parameters()).device
    x = x.to(device)
    y = there(x)
    pictures = torch.cat([x, y, back(y)])
    probs = torch.sigmoid(judge(pictures))
    cycle = float(cycle_error(x, pictures[2:])[0])
    change = float(cycle_error(x, y)[0])
    return RoundTrip(pictures.cpu(), probs.cpu(), cycle, change)
