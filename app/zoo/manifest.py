"""The model manifest (models/manifest.json): what each model is, where its weights are, how it scored.

``advlab train`` writes an entry for each model it trains; the zoo reads the file at start-up.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from app.media.imaging import PREPARERS

MANIFEST_NAME = "manifest.json"


def _known_preprocessing(name: str) -> str:
    if name not in PREPARERS:
        raise ValueError(f"unknown preprocessing {name!r}; known: {', '.join(PREPARERS)}")
    return name


Preprocess = Annotated[str, AfterValidator(_known_preprocessing)]
"""How an arbitrary picture is turned into this model's input: a key of app/media/imaging.py's PREPARERS."""


class Normalization(BaseModel):
    mean: list[float]
    std: list[float]


class WeightsRef(BaseModel):
    """Either a safetensors file in models/ (with its sha256) or a torchvision weights enum."""

    file: str | None = None
    sha256: str | None = None
    torchvision: str | None = Field(None, description="e.g. SqueezeNet1_1_Weights.IMAGENET1K_V1")


class ModelSpec(BaseModel):
    name: str
    title: str
    dataset: str
    architecture: str
    config: dict[str, Any] = {}
    input_shape: tuple[int, int, int]  # (C, H, W)
    normalization: Normalization
    preprocess: Preprocess
    classes: list[str] | None = None  # None: taken from the torchvision weights' metadata
    weights: WeightsRef
    metrics: dict[str, Any] = {}
    licence: str | None = None
    guards: str | None = Field(None, description="For a detector: the classifier whose inputs it checks.")
    served: bool = Field(
        True,
        description="False: kept out of the app (pickers, the API's list); "
        "loaded only when named, e.g. a judge of generated digits.",
    )


class AttributeSpec(BaseModel):
    """A multi-label classifier that names what a generated image shows (glasses, smiling, ...)."""

    names: list[str]
    config: dict[str, Any] = {}
    weights: WeightsRef
    metrics: dict[str, Any] = {}


class GeneratorSpec(BaseModel):
    """A GAN: generator and discriminator weights, and what labels its samples."""

    name: str
    title: str
    dataset: str
    config: dict[str, Any]  # app.gan.networks.GanConfig
    generator: WeightsRef
    discriminator: WeightsRef
    judge: str | None = Field(None, description="A zoo classifier that labels samples, e.g. mnist-cnn.")
    measured_by: list[str] | None = Field(
        None, description="Further classifiers that measure the samples (not shown on pages), e.g. mnist-judge."
    )
    attributes: AttributeSpec | None = None
    metrics: dict[str, Any] = {}
    licence: str | None = None


class UpscalerSpec(BaseModel):
    """A super-resolution network trained twice (pixel loss; pixel + adversarial loss), and its critic."""

    name: str
    title: str
    dataset: str
    config: dict[str, Any]  # app.gan.superres.UpscalerConfig
    pixel: WeightsRef = Field(description="The upscaler trained with the pixel loss only.")
    adversarial: WeightsRef = Field(description="The same network trained on with the critic's loss added.")
    critic: WeightsRef
    judge: str | None = Field(None, description="A zoo classifier that reads the upscaled images, e.g. mnist-cnn.")
    attribute_judge: str | None = Field(
        None, description="A generator whose attribute classifier reads the upscaled faces, e.g. dcgan-faces."
    )
    metrics: dict[str, Any] = {}
    licence: str | None = None


class TranslatorSpec(BaseModel):
    """A CycleGAN: two translators between unpaired domains, A (without ``attribute``) and B (with it)."""

    name: str
    title: str
    dataset: str
    config: dict[str, Any]  # app.gan.cycle.TranslatorConfig
    attribute: str = Field(description="What tells the domains apart, e.g. Smiling: A lacks it, B has it.")
    domains: tuple[str, str] = Field(description='What A and B are called, e.g. ("not smiling", "smiling").')
    directions: tuple[str, str] = Field(description='Names of A -> B and B -> A, e.g. ("smile", "unsmile").')
    forward: WeightsRef = Field(description="G, the translator from A to B.")
    backward: WeightsRef = Field(description="F, the translator from B back to A.")
    judge: str | None = Field(
        None, description="A generator whose attribute classifier reads the pictures, e.g. dcgan-faces."
    )
    metrics: dict[str, Any] = {}
    licence: str | None = None


AnySpec = ModelSpec | GeneratorSpec | UpscalerSpec | TranslatorSpec
SECTIONS: dict[str, type[ModelSpec] | type[GeneratorSpec] | type[UpscalerSpec] | type[TranslatorSpec]] = {
    "models": ModelSpec,
    "generators": GeneratorSpec,
    "upscalers": UpscalerSpec,
    "translators": TranslatorSpec,
}


def read_manifest(models_dir: Path) -> list[ModelSpec]:
    return _read(models_dir, "models")


def read_generators(models_dir: Path) -> list[GeneratorSpec]:
    return _read(models_dir, "generators")


def read_upscalers(models_dir: Path) -> list[UpscalerSpec]:
    return _read(models_dir, "upscalers")


def read_translators(models_dir: Path) -> list[TranslatorSpec]:
    return _read(models_dir, "translators")


def _read(models_dir: Path, section: str) -> list:
    data = json.loads((models_dir / MANIFEST_NAME).read_text())
    return [SECTIONS[section].model_validate(entry) for entry in data.get(section, [])]


def write_entry(models_dir: Path, spec: AnySpec) -> None:
    """Insert or replace one entry of its section, keeping the others and their order.

    Locked, so that two training commands finishing together both land in the manifest.
    """
    path = models_dir / MANIFEST_NAME
    with open(models_dir / f".{MANIFEST_NAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        body = json.loads(path.read_text()) if path.exists() else {}
        section = next(name for name, kind in SECTIONS.items() if isinstance(spec, kind))
        entries = body.setdefault(section, [])
        names = [e["name"] for e in entries]
        entry = spec.model_dump(exclude_none=True)
        if spec.name in names:
            entries[names.index(spec.name)] = entry
        else:
            entries.append(entry)
        path.write_text(json.dumps(body, indent=2) + "\n")


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
