"""Loading the GANs of the manifest's ``generators`` section: frozen, in eval mode, on the device."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors.torch import load_file
from torch import nn

from app.config import Settings
from app.errors import ModelUnavailable, NotFound
from app.gan import faces
from app.gan.networks import AnyDiscriminator, AnyGenerator, GanConfig, build_discriminator, build_generator
from app.zoo.manifest import GeneratorSpec, WeightsRef, read_generators, sha256_file

log = logging.getLogger(__name__)
Net = TypeVar("Net", bound=nn.Module)


@dataclass
class GanEntry:
    spec: GeneratorSpec
    generator: AnyGenerator | None = None  # Generator, or ConditionalGenerator (cfg.num_classes)
    discriminator: AnyDiscriminator | None = None
    attributes: nn.Module | None = None  # faces: logits per attribute; digits use the judge
    reason: str | None = None
    pool: Any = None  # app.gan.studio.Pool, built on first use

    @property
    def available(self) -> bool:
        return self.generator is not None

    @property
    def loaded_generator(self) -> AnyGenerator:
        """The generator of an available entry (Generators.get hands out no other)."""
        assert self.generator is not None, f"generator {self.spec.name} is not loaded: {self.reason}"
        return self.generator

    @property
    def loaded_discriminator(self) -> AnyDiscriminator:
        """The discriminator of an available entry (loaded together with its generator)."""
        assert self.discriminator is not None, f"generator {self.spec.name} is not loaded: {self.reason}"
        return self.discriminator


class Generators:
    """Every GAN in models/manifest.json, loaded once on one device. The classifiers' zoo is
    app/zoo; both read the same manifest (app/zoo/manifest.py), and neither imports the other."""

    def __init__(self, entries: list[GanEntry]) -> None:
        self.entries = {e.spec.name: e for e in entries}

    @classmethod
    def load(cls, settings: Settings, device: torch.device, only: Collection[str] | None = None) -> Generators:
        specs = [g for g in read_generators(settings.models_dir) if only is None or g.name in only]
        return cls([load_generator(spec, settings.models_dir, device) for spec in specs])

    def get(self, name: str) -> GanEntry:
        """A loaded GAN, or a 404 / 503 saying why not."""
        if name not in self.entries:
            raise NotFound(f"There is no generator {name[:80]!r}. Known generators: {', '.join(self.entries)}.")
        entry = self.entries[name]
        if not entry.available:
            raise ModelUnavailable(f"The generator {name} is not available on this server: {entry.reason}")
        return entry


def load_generator(spec: GeneratorSpec, models_dir: Path, device: torch.device) -> GanEntry:
    """The entry with its networks, or with the reason they could not be loaded."""
    entry = GanEntry(spec)
    cfg = GanConfig(**spec.config)
    try:
        g = _load(build_generator(cfg), spec.generator, models_dir)
        d = _load(build_discriminator(cfg), spec.discriminator, models_dir)
        a = None
        if spec.attributes:
            net = faces.attribute_net(attributes=len(spec.attributes.names), **spec.attributes.config)
            a = _load(net, spec.attributes.weights, models_dir)
    except (OSError, RuntimeError, ValueError) as exc:
        entry.reason = str(exc)
        log.warning("generator %s unavailable: %s", spec.name, exc)
        return entry
    # Convolutions in the NHWC layout: on the CPU a 64-sample grid decodes about a quarter faster.
    nhwc: dict[str, Any] = {"device": device, "memory_format": torch.channels_last}
    entry.generator, entry.discriminator = g.to(**nhwc), d.to(**nhwc)
    entry.attributes = None if a is None else a.to(**nhwc)
    return entry


def _load(net: Net, ref: WeightsRef, models_dir: Path) -> Net:
    path = models_dir / (ref.file or "")
    if not ref.file or not path.exists():
        raise OSError(f"weights file {ref.file} is missing from {models_dir}")
    if ref.sha256 and sha256_file(path) != ref.sha256:
        raise ValueError(f"{ref.file} does not match the sha256 in the manifest")
    net.load_state_dict(load_file(str(path)), strict=True)
    return net.eval().requires_grad_(False)
