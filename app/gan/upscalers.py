"""Loading the manifest's ``upscalers`` section: both trained versions of each super-resolution
network, frozen, in eval mode, on the device."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from app.config import Settings
from app.errors import ModelUnavailable, NotFound
from app.gan.superres import Critic, Upscaler, UpscalerConfig, bicubic, downscale
from app.zoo.manifest import UpscalerSpec, WeightsRef, read_upscalers, sha256_file

log = logging.getLogger(__name__)


@dataclass
class UpscalerEntry:
    spec: UpscalerSpec
    cfg: UpscalerConfig
    pixel: nn.Module | None = None
    adversarial: nn.Module | None = None
    critic: nn.Module | None = None
    reason: str | None = None

    @property
    def available(self) -> bool:
        return self.adversarial is not None


class Upscalers:
    """Every upscaler in models/manifest.json, loaded once on one device."""

    def __init__(self, entries: list[UpscalerEntry]) -> None:
        self.entries = {e.spec.name: e for e in entries}

    @classmethod
    def load(cls, settings: Settings, device: torch.device) -> Upscalers:
        return cls([load_upscaler(spec, settings.models_dir, device) for spec in read_upscalers(settings.models_dir)])

    def get(self, name: str) -> UpscalerEntry:
        """A loaded upscaler, or a 404 / 503 saying why not."""
        if name not in self.entries:
            raise NotFound(f"There is no upscaler {name[:80]!r}. Known upscalers: {', '.join(self.entries)}.")
        entry = self.entries[name]
        if not entry.available:
            raise ModelUnavailable(f"The upscaler {name} is not available on this server: {entry.reason}")
        return entry


def load_upscaler(spec: UpscalerSpec, models_dir: Path, device: torch.device) -> UpscalerEntry:
    cfg = UpscalerConfig(**spec.config)
    try:
        nets = {
            role: _load(net, getattr(spec, role), models_dir).to(device)
            for role, net in (("pixel", Upscaler(cfg)), ("adversarial", Upscaler(cfg)), ("critic", Critic(cfg)))
        }
    except (OSError, ValueError, RuntimeError) as exc:
        log.warning("upscaler %s unavailable: %s", spec.name, exc)
        return UpscalerEntry(spec, cfg, reason=str(exc))
    return UpscalerEntry(spec, cfg, pixel=nets["pixel"], adversarial=nets["adversarial"], critic=nets["critic"])


def _load(net: nn.Module, ref: WeightsRef, models_dir: Path) -> nn.Module:
    path = models_dir / str(ref.file)
    if not path.exists():
        raise FileNotFoundError(f"{path.name} is missing: run `advlab train` for it")
    if ref.sha256 and sha256_file(path) != ref.sha256:
        raise ValueError(f"{path.name} does not match the checksum in the manifest")
    net.load_state_dict(load_file(str(path)))
    return net.eval().requires_grad_(False)


METHODS = ("original", "low", "bicubic", "pixel", "adversarial")


@torch.inference_mode()
def upscale_all(entry: UpscalerEntry, high: torch.Tensor) -> dict[str, torch.Tensor]:
    """A high-resolution picture (N, C, high, high) downscaled, then brought back each way: the
    low-resolution input itself (and, for reading and comparing it, each pixel as a block), bicubic,
    and both upscalers. Tensors on the CPU, keyed by METHODS (+ "blocks")."""
    assert entry.pixel is not None and entry.adversarial is not None
    s = entry.cfg.scale
    device = next(entry.adversarial.parameters()).device
    low = downscale(high.to(device), s)
    out = {
        "original": high.to(device),
        "low": low,
        "blocks": F.interpolate(low, scale_factor=s, mode="nearest"),
        "bicubic": bicubic(low, s),
        "pixel": entry.pixel(low),
        "adversarial": entry.adversarial(low),
    }
    return {k: v.cpu() for k, v in out.items()}
