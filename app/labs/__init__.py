"""Experiments that run as jobs (app/runtime/jobs.py): robustness curves, the transfer matrix and the
shortcut-learning experiment. Each has a Params schema (with its limits), a body that yields
progress, and a check of the models it names."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from app.labs import robustness, shortcut, transfer
from app.runtime.jobs import Body
from app.zoo import Zoo

P = TypeVar("P", bound=BaseModel)  # one experiment's Params class


@dataclass(frozen=True)
class Experiment(Generic[P]):
    kind: str
    title: str
    description: str
    Params: type[P]
    body: Callable[[P, Zoo, Path, threading.Event | None], Body]  # the last: the job's stop event
    models: Callable[[P], list[str]]  # the zoo models it needs
    check: Callable[[Zoo, list[str]], None] = lambda zoo, names: None


# One name each, so that mypy infers each one's Params type and checks its body and models against it.
_ROBUSTNESS = Experiment(
    "robustness",
    "Robustness curves",
    robustness.__doc__.strip(),
    robustness.RobustnessParams,
    robustness.run,
    lambda p: p.models,
    robustness.check_models,
)
_TRANSFER = Experiment(
    "transfer",
    "Transferability matrix",
    transfer.__doc__.strip(),
    transfer.TransferParams,
    transfer.run,
    lambda p: p.surrogates + p.targets,
    transfer.check_models,
)
_SHORTCUT = Experiment(
    "shortcut",
    "Shortcut learning (seed 000)",
    shortcut.__doc__.strip(),
    shortcut.ShortcutParams,
    lambda p, zoo, data_dir, stop: shortcut.run(p, data_dir),
    lambda p: [],
)  # stops between 0.25 s chunks

_ALL: list[Experiment[Any]] = [_ROBUSTNESS, _TRANSFER, _SHORTCUT]
EXPERIMENTS = {e.kind: e for e in _ALL}
