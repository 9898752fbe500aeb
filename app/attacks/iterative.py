"""The loop shared by the iterative gradient attacks (I-FGSM/BIM, PGD L∞ and L2, MI-FGSM):
ascend the goal's loss in small steps, projecting back into the ε-ball and [0,1] after each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from app.attacks.base import Recorder, Trace, input_gradient, record_first
from app.attacks.norms import l2_direction, per_image, project, random_start


class Ascent(Protocol):
    """What the loop ascends: a Goal, or another objective of the same shape (defenses/detector.py)."""

    start_logits: torch.Tensor | None

    def loss(self, logits: torch.Tensor) -> torch.Tensor: ...

    def achieved(self, logits: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class Schedule:
    eps: float
    alpha: float
    steps: int
    norm: str = "linf"  # "linf" or "l2"
    random_start: bool = False
    momentum: float | None = None  # MI-FGSM's decay μ; None: plain steps


def iterate(
    model: nn.Module, x0: torch.Tensor, goal: Ascent, s: Schedule, generator: torch.Generator, recorder: Trace
) -> torch.Tensor:
    """x0: (N, C, H, W) -> adversarial (N, C, H, W) after ``s.steps`` projected steps."""
    x = random_start(x0, s.eps, s.norm, generator) if s.random_start else x0.clone()
    velocity = torch.zeros_like(x0)
    for i in range(s.steps):
        grad, logits, loss = input_gradient(model, x, goal.loss)
        if i == 0 and not s.random_start:
            goal.start_logits = logits
        record_first(recorder, i, x0, x, logits, loss)
        if s.momentum is not None:  # accumulate L1-normalised gradients (Dong et al. 2018)
            velocity = s.momentum * velocity + grad / per_image(grad.abs().flatten(1).mean(1).clamp_min(1e-12), grad)
            grad = velocity
        step = grad.sign() if s.norm == "linf" else l2_direction(grad)
        x = project(x + s.alpha * step, x0, s.eps, s.norm).detach()
    return x


def iterate_with_restarts(
    model: nn.Module,
    x0: torch.Tensor,
    goal: Ascent,
    s: Schedule,
    restarts: int,
    generator: torch.Generator,
    recorder: Trace,
) -> torch.Tensor:
    """Best of ``restarts`` runs per image: the first that succeeds, else the highest loss.

    The recorder keeps the trajectory of the run chosen for image 0."""
    if restarts == 1:  # nothing to choose between: no scoring forward
        return iterate(model, x0, goal, s, generator, recorder)
    assert not isinstance(recorder, list), "with restarts, only image 0 is traced"
    best: torch.Tensor | None = None
    best_score: torch.Tensor | None = None
    chosen: Recorder | None = None
    for _ in range(restarts):
        trace = (
            None
            if recorder is None
            else Recorder(recorder.true_class, recorder.target_class, recorder.snapshot_every, budget=recorder.budget)
        )
        x = iterate(model, x0, goal, s, generator, trace)
        with torch.no_grad():
            logits = model(x)
        # success counts first, then loss: score = success * big + loss
        score = goal.achieved(logits).float() * 1e6 + goal.loss(logits)
        if best is None or best_score is None:  # the first run (both are set together)
            best, best_score, chosen = x, score, trace
            continue
        better = score > best_score
        best = torch.where(per_image(better, x), x, best)
        best_score = torch.maximum(score, best_score)
        if bool(better[0]):
            chosen = trace
    if recorder is not None and chosen is not None:
        recorder.steps, recorder.snapshots = chosen.steps, chosen.snapshots
    assert best is not None, "restarts must be at least 1"
    return best
