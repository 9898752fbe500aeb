"""PGD, projected gradient descent: I-FGSM from a random point of the ε-ball, with restarts.

Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks" (ICLR 2018).
Two norms: L∞ (steps along the gradient's sign) and L2 (steps along the normalised gradient).
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Trace
from app.attacks.iterative import Schedule, iterate_with_restarts


class PGDParams(Params):
    eps: float = Field(0.3, ge=0.0, le=1.0, description="L∞ radius of the ball, in pixel units.")
    alpha: float = Field(0.01, gt=0.0, le=1.0, description="Size of each step.")
    steps: int = Field(40, ge=1, le=1000, description="Steps per restart.")
    random_start: bool = Field(True, description="Start from a random point of the ball.")
    restarts: int = Field(1, ge=1, le=10, description="Independent runs; the best per image is kept.")


class PGDL2Params(PGDParams):
    eps: float = Field(2.0, ge=0.0, le=100.0, description="L2 radius of the ball (pixel units).")
    alpha: float = Field(0.1, gt=0.0, le=10.0, description="L2 length of each step.")


class PGD(Attack[PGDParams]):
    name = "pgd"
    title = "PGD (L∞)"
    norm = "linf"
    Params = PGDParams
    paper = "Madry et al. 2018, arXiv:1706.06083"

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: PGDParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        schedule = Schedule(params.eps, params.alpha, params.steps, self.norm, params.random_start)
        x_adv = iterate_with_restarts(model, x, goal, schedule, params.restarts, generator, recorder)
        return x_adv, params.steps * params.restarts


class PGDL2(PGD):
    name = "pgd-l2"
    title = "PGD (L2)"
    norm = "l2"
    Params = PGDL2Params
