"""APGD-CE then APGD-T: the parameter-free core of AutoAttack, behind ``advlab eval NAME --autoattack``.

Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse
parameter-free attacks" (ICML 2020, arXiv:2003.01690). A fixed-step PGD can overstate robustness
when its step is too large or too small for a model; APGD starts with step 2ε, halves it at
checkpoints where the loss stopped rising (restarting from the best point), and uses momentum.
APGD-T then aims at each of the 9 next-ranked classes in turn with the targeted DLR loss, which,
unlike cross-entropy, does not vanish on a confident model's logits. An image counts as robust when
the model is right on it and none of these runs finds a misclassified point in the L∞ ball.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from app.attacks.base import cross_entropy

MOMENTUM = 0.75  # weight of the new step; the rest continues the last one
RHO = 0.75  # a checkpoint halves the step when fewer than this share of steps since raised the loss
TARGETS = 9  # APGD-T's target classes: the next-ranked ones after the model's answer

Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]  # (logits, y, t) -> (N,)


def ce_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    return cross_entropy(logits, y)


def dlr_targeted_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    """−(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2): scale-free, rises as the target overtakes the label."""
    assert target is not None, "the targeted DLR loss needs target classes"
    ranked = logits.sort(dim=1, descending=True).values
    gap = logits.gather(1, y[:, None])[:, 0] - logits.gather(1, target[:, None])[:, 0]
    return -gap / (ranked[:, 0] - (ranked[:, 2] + ranked[:, 3]) / 2 + 1e-12)


def checkpoints(steps: int) -> list[int]:
    """The iterations where the step size is reconsidered: p0 = 0, p1 = 0.22,
    p(j+1) = p(j) + max(p(j) − p(j−1) − 0.03, 0.06), as fractions of ``steps``."""
    p = [0.0, 0.22]
    while p[-1] + max(p[-1] - p[-2] - 0.03, 0.06) <= 1:
        p.append(p[-1] + max(p[-1] - p[-2] - 0.03, 0.06))
    return sorted({math.ceil(q * steps - 1e-6) for q in p[1:]})


@dataclass
class _State:
    """Per image: where the search is, its step, the best point so far and the checkpoint counters."""

    x: torch.Tensor
    previous: torch.Tensor
    value: torch.Tensor
    grad: torch.Tensor
    eta: torch.Tensor
    best: torch.Tensor
    best_value: torch.Tensor
    best_grad: torch.Tensor
    rises: torch.Tensor
    halved_last: torch.Tensor
    value_at_last: torch.Tensor


def apgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int = 100,
    loss: Loss = ce_loss,
    target: torch.Tensor | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """(N,) bool: APGD found a point of the L∞ ball around x (N, C, H, W) that the model misclassifies."""

    def project(z: torch.Tensor) -> torch.Tensor:
        return torch.minimum(torch.maximum(z, x - eps), x + eps).clamp(0.0, 1.0)

    def evaluate(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = z.detach().requires_grad_(True)
        logits = model(z)
        value = loss(logits, y, target)
        (grad,) = torch.autograd.grad(value.sum(), z)
        return value.detach(), grad, logits.argmax(1) != y

    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed)).to(x.device)
    start = project(x + eps * (2 * noise - 1))
    value, grad, fooled = evaluate(start)
    n = len(x)
    s = _State(
        start,
        start,
        value,
        grad,
        torch.full((n, 1, 1, 1), 2 * eps, device=x.device),
        start.clone(),
        value.clone(),
        grad.clone(),
        torch.zeros(n, device=x.device),
        torch.ones(n, dtype=torch.bool, device=x.device),
        value.clone(),
    )
    marks, last_mark = checkpoints(steps), 0
    for k in range(steps):
        z = project(s.x + s.eta * s.grad.sign())
        a = 1.0 if k == 0 else MOMENTUM
        step = project(s.x + a * (z - s.x) + (1 - a) * (s.x - s.previous))
        value, grad, wrong = evaluate(step)
        fooled |= wrong
        s.rises += (value > s.value).float()
        better = value > s.best_value
        s.best[better], s.best_value[better], s.best_grad[better] = step[better], value[better], grad[better]
        s.previous, s.x, s.value, s.grad = s.x, step, value, grad
        if k + 1 in marks:
            _checkpoint(s, k + 1 - last_mark)
            last_mark = k + 1
    return fooled


def _checkpoint(s: _State, since: int) -> None:
    """Halve the step where it stalled, and go back to the best point found."""
    halve = (s.rises < RHO * since) | (~s.halved_last & (s.best_value <= s.value_at_last))
    s.eta[halve] /= 2
    s.x[halve] = s.previous[halve] = s.best[halve]
    s.value[halve], s.grad[halve] = s.best_value[halve], s.best_grad[halve]
    s.halved_last, s.value_at_last = halve, s.best_value.clone()
    s.rises.zero_()


@dataclass
class AutoAttackResult:
    clean: float  # accuracy on the images as given
    after_ce: float  # robust accuracy after APGD-CE
    after_t: float  # after APGD-CE and APGD-T on every one of its targets


def autoattack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int = 100,
    targets: int = TARGETS,
    batch: int = 500,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> AutoAttackResult:
    """Robust accuracy under APGD-CE, then APGD-T, each run only on the images still standing."""
    standing, after_ce = [], []
    for xb, yb in zip(x.split(batch), y.split(batch)):
        xb, yb = xb.to(device), yb.to(device)
        with torch.no_grad():
            logits = model(xb)
        ok = logits.argmax(1) == yb
        ranked = logits.argsort(dim=1, descending=True)
        ok[ok.clone()] = ~apgd(model, xb[ok], yb[ok], eps, steps=steps, seed=seed)
        after_ce.append(ok.clone())
        for j in range(1, min(targets, logits.shape[1] - 1) + 1):
            if ok.any():
                ok[ok.clone()] = ~apgd(
                    model,
                    xb[ok],
                    yb[ok],
                    eps,
                    steps=steps,
                    loss=dlr_targeted_loss,
                    target=_target(ranked[ok], yb[ok], j),
                    seed=seed,
                )
        standing.append(ok)
    clean = float((torch.cat([model(xb.to(device)).argmax(1).cpu() for xb in x.split(batch)]) == y).float().mean())
    return AutoAttackResult(clean, float(torch.cat(after_ce).float().mean()), float(torch.cat(standing).float().mean()))


def _target(ranked: torch.Tensor, y: torch.Tensor, j: int) -> torch.Tensor:
    """The j-th ranked class other than the label."""
    others = ranked[ranked != y[:, None]].view(len(y), -1)
    return others[:, j - 1]
