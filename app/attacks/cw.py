"""C&W L2: the smallest L2 change that makes the target logit lead (or the label's logit lose) by
a margin κ, found with Adam in tanh space and a binary search over the trade-off constant c.

Carlini & Wagner, "Towards Evaluating the Robustness of Neural Networks" (S&P 2017).
minimise ‖x' − x‖² + c·max(Z_other − Z_t + κ, 0) (targeted) or c·max(Z_y − Z_other + κ, 0),
with x' = (tanh(w) + 1)/2 so that x' stays in [0,1] without clipping. Defaults (c starts at 1 and
grows tenfold until the attack succeeds, 100 Adam steps at lr 0.05, 6 searches) succeed on the
shipped models; the paper's c = 1e-3 with few steps is why C&W "fails at its defaults" elsewhere.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Trace, record_first


class CWParams(Params):
    c: float = Field(1.0, gt=0.0, le=1e6, description="Starting trade-off constant c.")
    kappa: float = Field(0.0, ge=0.0, le=100.0, description="Confidence margin κ on the logits.")
    steps: int = Field(100, ge=1, le=1000, description="Adam steps per binary-search round.")
    search_steps: int = Field(6, ge=1, le=20, description="Binary-search rounds over c.")
    lr: float = Field(0.05, gt=0.0, le=1.0, description="Adam learning rate (in tanh space).")
    survive_saving: bool = Field(
        True, description=("Finish with an 8-bit step: grow the change until the saved PNG still fools the model.")
    )


def margin(logits: torch.Tensor, goal: Goal, kappa: float) -> torch.Tensor:
    """(N,) C&W's f: how far the goal is from being met by κ; 0 once it is."""
    cls = goal.target if goal.target is not None else goal.labels
    own = logits.gather(1, cls[:, None])[:, 0]
    others = logits.masked_fill(F.one_hot(cls, logits.shape[1]).bool(), float("-inf")).amax(1)
    gap = others - own if goal.targeted else own - others
    return (gap + kappa).clamp_min(0.0)


class CW(Attack[CWParams]):
    name = "cw"
    title = "Carlini & Wagner L2"
    norm = "l2"
    Params = CWParams
    paper = "Carlini & Wagner 2017, arXiv:1608.04644"

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: CWParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        n = x.shape[0]
        c = torch.full((n,), params.c, device=x.device)
        lower, upper = torch.zeros_like(c), torch.full_like(c, float("inf"))
        best, best_l2 = x.clone(), torch.full_like(c, float("inf"))
        w0 = torch.atanh((2 * x - 1).clamp(-1 + 1e-6, 1 - 1e-6))
        for r in range(params.search_steps):
            found = self._round(model, x, w0, goal, c, params, best, best_l2, recorder, r * params.steps)
            upper = torch.where(found, torch.minimum(upper, c), upper)
            lower = torch.where(found, lower, torch.maximum(lower, c))
            c = torch.where(torch.isinf(upper), c * 10, (lower + upper) / 2)
        return best, params.steps * params.search_steps

    def _round(self, model, x, w0, goal, c, params, best, best_l2, recorder, offset) -> torch.Tensor:
        """One Adam run at fixed c; updates best/best_l2 in place; (N,) whether it succeeded."""
        w = w0.clone().requires_grad_(True)
        optimiser = torch.optim.Adam([w], lr=params.lr)
        found = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for i in range(params.steps):
            x_adv = (torch.tanh(w) + 1) / 2
            logits = model(x_adv)
            l2 = (x_adv - x).flatten(1).pow(2).sum(1)
            loss = l2 + c * margin(logits, goal, params.kappa)
            record_first(recorder, offset + i, x, x_adv.detach(), logits.detach(), loss.detach())
            with torch.no_grad():
                better = goal.achieved(logits) & (l2 < best_l2)
                best[better], best_l2[better] = x_adv[better], l2[better]
                found |= goal.achieved(logits)
            optimiser.zero_grad()
            loss.sum().backward()
            optimiser.step()
        return found
