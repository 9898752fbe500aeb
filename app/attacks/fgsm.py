"""FGSM, the fast gradient sign method: one step of size ε along the sign of the input gradient.

Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial Examples" (ICLR 2015).
Untargeted: x + ε·sign(∇x L(x, y)); targeted: x − ε·sign(∇x L(x, t)). L∞ norm, one gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Trace, input_gradient, record_first
from app.attacks.norms import distances
from app.attacks.saving import saved_pixels


class FGSMParams(Params):
    eps: float = Field(0.1, ge=0.0, le=1.0, description="L∞ size of the step, in pixel units (0–1).")


class FGSM(Attack[FGSMParams]):
    name = "fgsm"
    title = "FGSM"
    norm = "linf"
    Params = FGSMParams
    paper = "Goodfellow et al. 2015, arXiv:1412.6572"
    per_image_params = ("eps",)  # one gradient, no randomness: concurrent slider requests share a batch

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: FGSMParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        grad, logits, loss = input_gradient(model, x, goal.loss)  # goal.loss is ascended
        goal.start_logits = logits
        record_first(recorder, 0, x, x, logits, loss)
        x_adv = (x + params.eps * grad.sign()).clamp(0.0, 1.0).detach()
        return x_adv, 1


@dataclass
class Sweep:
    """FGSM at many ε from one gradient, for N images and E values of ε."""

    eps: list[float]  # (E,)
    sign: torch.Tensor  # (N, C, H, W) in {-1, 0, 1}: the step's direction, x_adv(ε) = clip(x + ε·sign)
    logits_before: torch.Tensor  # (N, K)
    logits_after: torch.Tensor  # (N, E, K) on x_adv(ε)
    logits_saved: torch.Tensor  # (N, E, K) on x_adv(ε) as its 8-bit PNG keeps it (attacks/saving.py)
    success: torch.Tensor  # (N, E) bool
    rounded: torch.Tensor  # (N, E) how many values rounding to 8 bits changes
    distances: dict[str, torch.Tensor]  # l0, l2, linf, psnr: (N, E) of the saved images

    def cpu(self) -> Sweep:
        move = lambda v: v.cpu() if isinstance(v, torch.Tensor) else v
        fields: dict[str, Any] = {
            k: ({n: move(t) for n, t in v.items()} if isinstance(v, dict) else move(v)) for k, v in vars(self).items()
        }
        return Sweep(**fields)


def sweep(model: nn.Module, x: torch.Tensor, goal: Goal, eps: list[float], chunk: int = 256) -> Sweep:
    """FGSM's direction does not depend on ε, so one gradient serves a whole grid of ε: the
    adversarial images of every (image, ε) pair are scored in batched forwards of ``chunk``.
    Each x_adv(ε) is computed exactly as FGSM.perturb computes it, bit for bit."""
    grad, logits, _ = input_gradient(model, x, goal.loss)
    sign = grad.sign()
    n, e = len(x), len(eps)
    adv = torch.stack([(x + value * sign).clamp(0.0, 1.0) for value in eps], dim=1).flatten(0, 1)  # (N·E, C, H, W)
    start = x.repeat_interleave(e, dim=0)
    saved = saved_pixels(adv, start)
    with torch.no_grad():
        after = torch.cat([model(part) for part in adv.split(chunk)])
        after_saving = torch.cat([model(part) for part in saved.split(chunk)])
    labels = goal.labels.repeat_interleave(e)
    target = None if goal.target is None else goal.target.repeat_interleave(e)
    success = Goal(labels, target).achieved(after)
    return Sweep(
        eps=list(eps),
        sign=sign.detach(),
        logits_before=logits,
        logits_after=after.view(n, e, -1),
        logits_saved=after_saving.view(n, e, -1),
        success=success.view(n, e),
        rounded=(saved - adv).abs().gt(1e-6).flatten(1).sum(1).view(n, e),
        distances={k: v.view(n, e) for k, v in distances(saved, start).items()},
    )
