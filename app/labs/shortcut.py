"""Seed 000's shortcut-learning experiment: gradient descent takes the easiest solution.

Training digits get a class-dependent hint (a small white box whose position gives the class);
test digits do not. The seed's MLP (784-512-512-10, ReLU, dropout 0.2, RMSprop, 20 epochs, 20% of
the training set held out for validation) learns the box: ~100% on training and validation, far
less on clean test digits (the seed reports 0.7264 accuracy, 0.8712 log-loss). The multi-task
variant also reconstructs its input (a 784-unit sigmoid decoder, binary cross-entropy, weight 1)
with the classification loss weighted 10^-i; the sweep plots test log-loss against i.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from app.media import data
from app.runtime.jobs import Body

BOX = 4  # the hint is a BOX x BOX white square
CHUNK_S = 0.25  # yield progress about this often


class ShortcutParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epochs: int = Field(20, ge=1, le=20, description="Epochs per model (the seed: 20).")
    weights: list[int] = Field(
        [0, 1, 2, 3, 4, 5],
        min_length=1,
        max_length=9,
        description="The i of each multi-task model: classification weight 10^-i.",
    )
    train_images: int = Field(
        60_000, ge=1000, le=60_000, description="Training digits used (80% train, 20% validation)."
    )
    seed: int = Field(0, ge=0, le=2**31 - 1)


def hint_position(label: int) -> tuple[int, int]:
    """Top-left corner of class ``label``'s box: five along the top edge, five along the bottom."""
    row = 1 if label < 5 else 28 - BOX - 1
    col = 1 + (label % 5) * 5
    return row, col


def add_hints(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """x (N, 1, 28, 28) with each image's class box painted white."""
    out = x.clone()
    for label in range(10):
        r, c = hint_position(label)
        out[y == label, :, r : r + BOX, c : c + BOX] = 1.0
    return out


class MultiTask(nn.Module):
    """The seed's networks: encoder 784-512-512 (ReLU, dropout 0.2), a 10-way head, and optionally
    a 784-unit sigmoid decoder. forward -> (class logits, reconstruction logits or None)."""

    def __init__(self, reconstruct: bool) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 512),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Dropout(0.2),
        )
        self.head = nn.Linear(512, 10)
        self.decoder = nn.Linear(512, 784) if reconstruct else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h = self.encoder(x)
        return self.head(h), None if self.decoder is None else self.decoder(h)


def run(params: ShortcutParams, data_dir: Path, batch_size: int = 128) -> Body:
    """The experiment as a job body: the plain MLP, then one multi-task model per i."""
    torch.manual_seed(params.seed)
    x, y = data.load_split("mnist", data_dir, train=True)
    x, y = x[: params.train_images], y[: params.train_images]
    x_test, y_test = data.load_split("mnist", data_dir, train=False)
    cut = int(0.8 * len(x))  # Keras' validation_split=0.2 takes the last 20%
    hinted = add_hints(x, y)
    split = {
        "train": (hinted[:cut], y[:cut]),
        "validation": (hinted[cut:], y[cut:]),
        "test": (x_test, y_test),
        "test_with_hints": (add_hints(x_test, y_test), y_test),
    }
    variants = [None] + list(params.weights)
    steps_each = params.epochs * math.ceil(cut / batch_size)
    total, done, results = steps_each * len(variants), 0, {}
    for i in variants:
        name = "plain" if i is None else f"i={i}"
        model = MultiTask(reconstruct=i is not None)
        started = time.perf_counter()
        for _ in _train(model, split["train"], i, params, batch_size):
            done += 1
            if time.perf_counter() - started > CHUNK_S:
                yield done, total, f"training the {name} model"
                started = time.perf_counter()
        results[name] = {
            "classification_weight": None if i is None else 10.0**-i,
            "i": i,
            **{part: _scores(model, *split[part]) for part in split},
        }
    return {
        "params": params.model_dump(),
        "models": results,
        "hint": f"{BOX}x{BOX} white box, position by class",
        "seed_reported": {"test_accuracy": 0.7264, "test_log_loss": 0.8712},
    }


def _train(
    model: MultiTask, train: tuple[torch.Tensor, torch.Tensor], i: int | None, params: ShortcutParams, batch_size: int
):
    """Yields after every batch. RMSprop at Keras' defaults (lr 1e-3, rho 0.9, eps 1e-7)."""
    x, y = train
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    gen = torch.Generator().manual_seed(params.seed)
    model.train()
    for _ in range(params.epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            logits, recon = model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            if recon is not None:  # Keras: loss_weights=[1.0, 10**-i] on [reconstruction, classes]
                assert i is not None  # the model reconstructs exactly when it has a weight 10**-i
                bce = F.binary_cross_entropy_with_logits(recon, x[idx].flatten(1))
                loss = bce + 10.0**-i * loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            yield
    model.eval()


@torch.no_grad()
def _scores(model: MultiTask, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    logits = torch.cat([model(b)[0] for b in x.split(2000)])
    return {
        "accuracy": round(float((logits.argmax(1) == y).float().mean()), 4),
        "log_loss": round(float(F.cross_entropy(logits, y)), 4),
    }
