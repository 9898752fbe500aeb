"""FGSM, the fast gradient sign method: one step of size ε along the sign of the input gradient.

Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial Examples" (ICLR 2015).
Untargeted: x + ε·sign(∇x L(x, y)); targeted: x − ε·sign(∇x L(x, t)). L∞ norm, one gradient.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Recorder, input_gradient, record_first


class FGSMParams(Params):
    eps: float = Field(0.1, ge=0.0, le=1.0, description="L∞ size of the step, in pixel units (0–1).")


class FGSM(Attack):
    name = "fgsm"
    title = "FGSM"
    norm = "linf"
    Params = FGSMParams
    paper = "Goodfellow et al. 2015, arXiv:1412.6572"
    per_image_params = ("eps",)  # one gradient, no randomness: concurrent slider requests share a batch

    def perturb(self, model: nn.Module, x: torch.Tensor, goal: Goal, params: FGSMParams,
                generator: torch.Generator, recorder: Recorder | None) -> tuple[torch.Tensor, int]:
        grad, logits, loss = input_gradient(model, x, goal.loss)  # goal.loss is ascended
        goal.start_logits = logits
        record_first(recorder, 0, x, x, logits, loss)
        x_adv = (x + params.eps * grad.sign()).clamp(0.0, 1.0).detach()
        return x_adv, 1
