"""MI-FGSM, momentum iterative FGSM: I-FGSM whose steps follow a running sum of L1-normalised
gradients, which escapes poor local maxima and transfers better to other models.

Dong et al., "Boosting Adversarial Attacks with Momentum" (CVPR 2018). L∞.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Trace
from app.attacks.iterative import Schedule, iterate


class MIFGSMParams(Params):
    eps: float = Field(0.3, ge=0.0, le=1.0, description="L∞ radius of the ball, in pixel units.")
    alpha: float = Field(0.03, gt=0.0, le=1.0, description="Size of each step.")
    steps: int = Field(10, ge=1, le=500, description="Number of steps.")
    decay: float = Field(1.0, ge=0.0, le=2.0, description="Momentum decay μ.")


class MIFGSM(Attack[MIFGSMParams]):
    name = "mifgsm"
    title = "MI-FGSM"
    norm = "linf"
    Params = MIFGSMParams
    paper = "Dong et al. 2018, arXiv:1710.06081"

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: MIFGSMParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        schedule = Schedule(params.eps, params.alpha, params.steps, momentum=params.decay)
        return iterate(model, x, goal, schedule, generator, recorder), params.steps
