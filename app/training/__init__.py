"""``advlab train NAME``: one entry per trainable model."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from app.config import Settings
from app.zoo.device import resolve_device
from app.zoo.manifest import write_entry

from . import classifiers, cycle, detector, gans, superres

Trainer = Callable[..., None]


def training_device(settings: Settings) -> torch.device:
    """The device a training run uses, with torch's CPU threads set as the settings ask."""
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    return resolve_device(settings.device)


def train_classifier(
    name: str, settings: Settings, *, out_dir: Path, seed: int, dry_run: bool, record: bool, epochs: int | None = None
) -> None:
    """Train one of the small classifiers; ``record`` adds its entry to models/manifest.json."""
    device = training_device(settings)
    spec = classifiers.train(
        classifiers.RECIPES[name],
        settings.data_dir,
        out_dir,
        seed=seed,
        dry_run=dry_run,
        device=str(device),
        epochs=epochs,
    )
    if record:
        write_entry(out_dir, spec)


def train_gan(
    name: str,
    settings: Settings,
    *,
    out_dir: Path,
    seed: int,
    dry_run: bool,
    record: bool,
    epochs: int | None = None,
    resume: Path | None = None,
    overrides: list[str] | None = None,
    time_limit: float | None = None,
) -> None:
    """Train a DCGAN (and, for faces, its attribute classifier); measure it; record it.
    ``resume``: a checkpoint to go on from (see app/training/gans.py); ``overrides``: KEY=VALUE
    changes to the recipe (``gans.with_overrides``); ``time_limit``: seconds of training after which
    the run stops at the end of the epoch (the epochs done are recorded)."""
    device = training_device(settings)
    recipe = gans.with_overrides(gans.RECIPES[name], overrides or [])
    spec = gans.train(
        recipe,
        settings,
        out_dir,
        seed=seed,
        dry_run=dry_run,
        device=str(device),
        epochs=epochs,
        resume=resume,
        time_limit=time_limit,
    )
    if record:
        write_entry(out_dir, spec)


def checkpoint_path(name: str, out_dir: Path, dry_run: bool, settings: Settings) -> Path:
    """Where a GAN run writes its checkpoints, so where a bare ``--resume`` looks."""
    return gans.checkpoint_path(name, out_dir, dry_run or out_dir != settings.models_dir)


def train_upscaler(name: str, settings: Settings, *, out_dir: Path, seed: int, dry_run: bool, record: bool) -> None:
    """Train a super-resolution network with the pixel loss, then on with the critic; measure both."""
    device = training_device(settings)
    spec = superres.train(superres.RECIPES[name], settings, out_dir, seed=seed, dry_run=dry_run, device=str(device))
    if record:
        write_entry(out_dir, spec)


def train_translator(
    name: str,
    settings: Settings,
    *,
    out_dir: Path,
    seed: int,
    dry_run: bool,
    record: bool,
    epochs: int | None = None,
    resume: Path | None = None,
    time_limit: float | None = None,
) -> None:
    """Train a CycleGAN (both translators and their critics); measure it on the held-out faces."""
    device = training_device(settings)
    spec = cycle.train(
        cycle.RECIPES[name],
        settings,
        out_dir,
        seed=seed,
        dry_run=dry_run,
        device=str(device),
        epochs=epochs,
        resume=resume,
        time_limit=time_limit,
    )
    if record:
        write_entry(out_dir, spec)


def train_detector(settings: Settings, *, out_dir: Path, seed: int, dry_run: bool, record: bool) -> None:
    """Train the adversarial-input detector for mnist-cnn and measure how far it holds."""
    spec = detector.train(settings, out_dir, seed=seed, dry_run=dry_run, device=str(training_device(settings)))
    if record:
        write_entry(out_dir, spec)


TRAINERS: dict[str, Trainer] = {
    **{name: partial(train_classifier, name) for name in classifiers.RECIPES},
    **{name: partial(train_gan, name) for name in gans.RECIPES},
    **{name: partial(train_upscaler, name) for name in superres.RECIPES},
    **{name: partial(train_translator, name) for name in cycle.RECIPES},
    "mnist-detector": train_detector,
}
WITH_EPOCHS = {*classifiers.RECIPES, *gans.RECIPES, *cycle.RECIPES}  # trainers that take an ``epochs`` override
RESUMABLE = {*gans.RECIPES, *cycle.RECIPES}  # trainers that checkpoint every epoch and take ``resume``
WITH_OVERRIDES = set(gans.RECIPES)  # trainers that take ``overrides`` (KEY=VALUE recipe changes)
WITH_TIME_LIMIT = {*gans.RECIPES, *cycle.RECIPES}  # trainers that take ``time_limit`` (seconds)
