"""The inner maximisation of adversarial training (Madry et al. 2018): replace each training batch
by PGD examples against the current model, at an ε that grows during the first epochs.

loss = (1 − w)·L(W, x_adv, y) + w·L(W, x, y): seed 002's "L(W,x,y) + λ L(W,x_adv,y)", normalised.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from app.attacks.base import Goal
from app.attacks.iterative import Schedule, iterate


@dataclass(frozen=True)
class AdversarialTraining:
    eps: float = 0.3  # L∞ radius of the attack trained against
    steps: int = 7  # PGD steps per batch
    alpha: float = 0.1  # step size at full ε (scaled down with ε during the ramp)
    ramp_epochs: float = 2.0  # ε grows linearly from 0 over this many epochs
    clean_weight: float = 0.0  # w above: 0 is Madry's pure adversarial loss

    def eps_at(self, epoch_fraction: float) -> float:
        """ε after ``epoch_fraction`` epochs of training."""
        if self.ramp_epochs <= 0:
            return self.eps
        return self.eps * min(1.0, epoch_fraction / self.ramp_epochs)

    def to_dict(self) -> dict:
        return asdict(self)


def adversarial_batch(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, cfg: AdversarialTraining, generator: torch.Generator
) -> torch.Tensor:
    """PGD examples (random start) for the batch, made with the model in eval mode (no dropout)."""
    if eps <= 0:
        return x
    was_training = model.training
    model.eval()
    schedule = Schedule(eps, cfg.alpha * eps / cfg.eps, cfg.steps, "linf", random_start=True)
    x_adv = iterate(model, x, Goal(y), schedule, generator, None)
    model.train(was_training)
    return x_adv.detach()
