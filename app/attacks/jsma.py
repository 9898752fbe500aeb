"""JSMA, the Jacobian-based saliency map attack: an L0 attack that raises two pixels at a time,
the pair whose increase most helps the target class and most hurts all the others together.

Papernot et al., "The Limitations of Deep Learning in Adversarial Settings" (EuroS&P 2016).
With F the softmax output, as in the paper, the others' derivative is β = −α (the probabilities
sum to 1), so the pair score (α_p+α_q)·|β_p+β_q| over pairs with α_p+α_q > 0 is (α_p+α_q)², and
the best pair is simply the two largest α among the pixels that can still be raised.
Targeted by nature; untargeted runs aim at the class the model ranks second. Each step changes two
values for one gradient, so inputs larger than 4,096 values are refused: ImageNet's 150,528 would
need thousands of steps.
"""

from __future__ import annotations

import torch
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Trace, record_first


class JSMAParams(Params):
    theta: float = Field(1.0, gt=0.0, le=1.0, description="How much each chosen pixel is raised.")
    gamma: float = Field(0.15, gt=0.0, le=1.0, description="Most fraction of pixels changed.")


class JSMA(Attack[JSMAParams]):
    name = "jsma"
    title = "JSMA"
    norm = "l0"
    max_features = 4096
    Params = JSMAParams
    paper = "Papernot et al. 2016, arXiv:1511.07528"

    def too_costly(self, features: int) -> str:
        return (
            f"JSMA changes two values per step, one gradient each: an input of {features:,} values "
            f"would need thousands of steps (the limit is {self.max_features:,} values, e.g. "
            "MNIST's 784). Try an MNIST model, or an L2 or L∞ attack for ImageNet."
        )

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: JSMAParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        target = goal.target
        if target is None:
            with torch.no_grad():
                target = model(x).topk(2, dim=1).indices[:, 1]
            goal = Goal(goal.labels, target)
        flat = x.flatten(1).clone()
        raisable = flat < 1.0
        max_iters = int(params.gamma * flat.shape[1] / 2)
        for i in range(max_iters):
            logits, alpha = self._target_gradient(model, flat.view_as(x), target)
            record_first(recorder, i, x, flat.view_as(x), logits)
            alpha = alpha.masked_fill(~raisable, float("-inf"))
            pair_value, pair = alpha.topk(2, dim=1)
            active = ~goal.achieved(logits) & (pair_value.sum(1) > 0)
            if not active.any():
                return flat.view_as(x), i
            rows = active.nonzero()[:, 0, None]
            cols = pair[rows[:, 0]]
            flat[rows, cols] = (flat[rows, cols] + params.theta).clamp(max=1.0)
            raisable[rows, cols] = False
        return flat.view_as(x), max_iters

    @staticmethod
    def _target_gradient(model: nn.Module, x: torch.Tensor, target: torch.Tensor):
        """Logits (N, K) and α = ∂p_target/∂x flattened (N, C·H·W)."""
        xr = x.detach().requires_grad_(True)
        logits = model(xr)
        p_t = torch.softmax(logits, dim=1).gather(1, target[:, None])[:, 0]
        (alpha,) = torch.autograd.grad(p_t.sum(), xr)
        return logits.detach(), alpha.flatten(1)
