"""The model manifest (models/manifest.json): what each model is, where its weights are, how it scored.

``advlab train`` writes an entry for each model it trains; the zoo reads the file at start-up.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

MANIFEST_NAME = "manifest.json"

Preprocess = Literal["digit", "fashion", "imagenet"]
"""How an arbitrary picture is turned into this model's input (see app/imaging.py)."""


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


def read_manifest(models_dir: Path) -> list[ModelSpec]:
    path = models_dir / MANIFEST_NAME
    data = json.loads(path.read_text())
    return [ModelSpec.model_validate(entry) for entry in data["models"]]


def write_entry(models_dir: Path, spec: ModelSpec) -> None:
    """Insert or replace one model's entry, keeping the others and their order."""
    path = models_dir / MANIFEST_NAME
    specs = read_manifest(models_dir) if path.exists() else []
    names = [s.name for s in specs]
    if spec.name in names:
        specs[names.index(spec.name)] = spec
    else:
        specs.append(spec)
    body = {"models": [s.model_dump(exclude_none=True) for s in specs]}
    path.write_text(json.dumps(body, indent=2) + "\n")


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
