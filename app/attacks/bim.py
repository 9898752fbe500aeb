"""I-FGSM / BIM, the basic iterative method: FGSM in small steps, clipped to the ε-ball.

Kurakin, Goodfellow & Bengio, "Adversarial examples in the physical world" (2017). L∞.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Trace
from app.attacks.iterative import Schedule, iterate


class BIMParams(Params):
    eps: float = Field(0.1, ge=0.0, le=1.0, description="L∞ radius of the ball, in pixel units.")
    alpha: float = Field(0.01, gt=0.0, le=1.0, description="Size of each step.")
    steps: int = Field(20, ge=1, le=500, description="Number of steps.")


class BIM(Attack[BIMParams]):
    name = "bim"
    title = "I-FGSM (BIM)"
    norm = "linf"
    Params = BIMParams
    paper = "Kurakin et al. 2017, arXiv:1607.02533"

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: BIMParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        schedule = Schedule(params.eps, params.alpha, params.steps)
        return iterate(model, x, goal, schedule, generator, recorder), params.steps
