"""A GAN run's checkpoint: everything needed to go on as if it had never stopped.

Written after every epoch (atomically: a run killed while writing keeps the previous one) to
``var/train/<name>/checkpoint.pt``; ``advlab train NAME --resume`` reads it back. It holds both
players, the EMA copy of G, both optimisers, the random streams and the number of epochs done.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from app.config import ROOT
from app.gan.game import Players
from app.gan.networks import AnyGenerator

CHECKPOINT_DIR = ROOT / "var" / "train"


@dataclass
class RunState:
    """What a run carries from epoch to epoch besides the players."""

    average: AnyGenerator | None  # the EMA copy of G, when the recipe keeps one
    order: torch.Generator  # CPU: the order of the training images
    noise: torch.Generator  # on the training device: latents, labels, flips and shifts
    epoch: int = 0  # epochs finished


def default_path(name: str) -> Path:
    return CHECKPOINT_DIR / name / "checkpoint.pt"


def save(path: Path, name: str, players: Players, run: RunState) -> None:
    state = {
        "name": name,
        "epoch": run.epoch,
        "generator": players.generator.state_dict(),
        "discriminator": players.discriminator.state_dict(),
        "opt_g": players.opt_g.state_dict(),
        "opt_d": players.opt_d.state_dict(),
        "average": None if run.average is None else run.average.state_dict(),
        "order_rng": run.order.get_state(),
        "noise_rng": run.noise.get_state(),
        "torch_rng": torch.get_rng_state(),
    }
    save_atomic(path, state)


def save_atomic(path: Path, state: dict) -> None:
    """torch.save through a temporary file: a run killed while writing keeps the previous checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def load(path: Path, name: str, players: Players, run: RunState) -> None:
    """Put a checkpoint's state into freshly built players and run state (same recipe)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["name"] != name:
        raise ValueError(f"{path} is a checkpoint of {state['name']}, not of {name}")
    players.generator.load_state_dict(state["generator"])
    players.discriminator.load_state_dict(state["discriminator"])
    players.opt_g.load_state_dict(state["opt_g"])
    players.opt_d.load_state_dict(state["opt_d"])
    if run.average is not None and state["average"] is not None:
        run.average.load_state_dict(state["average"])
    run.order.set_state(state["order_rng"])
    run.noise.set_state(state["noise_rng"])
    torch.set_rng_state(state["torch_rng"])
    run.epoch = state["epoch"]
