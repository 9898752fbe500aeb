"""DeepFool: the smallest L2 step to the nearest decision boundary of the model linearised at the
current point, repeated until the label changes (with a small overshoot to cross it).

Moosavi-Dezfooli, Fawzi & Frossard, "DeepFool" (CVPR 2016). Targeted variant: only the target's
boundary is considered. Candidates are the `candidates` classes the model ranks highest at the start.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Trace, record_first
from app.attacks.norms import flat_norm, per_image


class DeepFoolParams(Params):
    steps: int = Field(50, ge=1, le=500, description="Most linearisation steps.")
    overshoot: float = Field(0.02, ge=0.0, le=1.0, description="Extra fraction to step past the boundary.")
    candidates: int = Field(10, ge=2, le=100, description="Classes considered (the top ones at the start).")
    survive_saving: bool = Field(
        True, description=("Finish with an 8-bit step: grow the change until the saved PNG still fools the model.")
    )


class DeepFool(Attack[DeepFoolParams]):
    name = "deepfool"
    title = "DeepFool"
    norm = "l2"
    Params = DeepFoolParams
    paper = "Moosavi-Dezfooli et al. 2016, arXiv:1511.04599"

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: DeepFoolParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        with torch.no_grad():
            ranked = model(x).argsort(dim=1, descending=True)
        classes = goal.target[:, None] if goal.target is not None else ranked[:, : params.candidates]
        total = torch.zeros_like(x)
        x_adv = x.clone()
        for i in range(params.steps):
            logits, step = self._step(model, x_adv, goal.labels, classes)
            record_first(recorder, i, x, x_adv, logits)
            active = ~goal.achieved(logits)
            if not active.any():
                return x_adv, i
            total = total + step * per_image(active.float(), step)
            x_adv = (x + (1 + params.overshoot) * total).clamp(0.0, 1.0).detach()
        return x_adv, params.steps

    @staticmethod
    def _step(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, classes: torch.Tensor):
        """Logits at x and the minimal step (N, C, H, W) to the nearest linearised boundary."""
        xr = x.detach().requires_grad_(True)
        logits = model(xr)
        own = logits.gather(1, labels[:, None])[:, 0]
        (g_own,) = torch.autograd.grad(own.sum(), xr, retain_graph=True)
        best_dist = torch.full_like(own, float("inf"))
        step = torch.zeros_like(x)
        for j in range(classes.shape[1]):
            k = classes[:, j]
            z_k = logits.gather(1, k[:, None])[:, 0]
            (g_k,) = torch.autograd.grad(z_k.sum(), xr, retain_graph=True)
            w = g_k - g_own  # (N, C, H, W): normal of the boundary between own and k
            f = (z_k - own).detach()  # negative while own still wins
            w_norm = flat_norm(w).clamp_min(1e-12)
            dist = f.abs() / w_norm
            closer = (k != labels) & (dist < best_dist)
            best_dist = torch.where(closer, dist, best_dist)
            candidate = per_image((dist + 1e-4) / w_norm, w) * w
            step = torch.where(per_image(closer, w), candidate, step)
        return logits.detach(), step.detach()
