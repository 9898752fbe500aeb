"""The lecture's optimisation attack (seed 002) and fooling images grown from noise (seeds 002, 004).

Gradient descent (Adam) on the image itself, the model frozen, for
    ½‖softmax(f(x̂)) − onehot(t)‖²  +  λ‖x̂ − x‖²
clipping x̂ to [0,1] after each step. λ trades "looks like x" against "is classified as t".
Fooling from noise drops the proximity term and starts from uniform noise: the model becomes
sure of a class in an image that looks like nothing, because most of the input space is not
made of real pictures. Both are targeted; with no target class they push the image away from its
label instead (descend −½‖softmax − onehot(y)‖²). No norm ball: the L2 term is a soft constraint.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from app.attacks.base import Attack, Goal, Params, Trace, record_first

TEMPERATURE = Field(
    10.0,
    ge=1.0,
    le=1000.0,
    description=(
        "Softmax temperature T in the loss (softmax(logits / T)). A confident model's softmax is "
        "saturated, so the seed's loss has a zero gradient at T = 1; a larger T keeps it alive."
    ),
)


class ProximityParams(Params):
    lam: float = Field(0.01, ge=0.0, le=100.0, description="λ, the weight of ‖x̂ − x‖² (0: no proximity).")
    temperature: float = TEMPERATURE
    lr: float = Field(0.01, gt=0.0, le=1.0, description="Adam step size.")
    steps: int = Field(200, ge=1, le=2000, description="Number of descent steps.")


class NoiseParams(Params):
    temperature: float = TEMPERATURE
    lr: float = Field(0.01, gt=0.0, le=1.0, description="Adam step size.")
    steps: int = Field(200, ge=1, le=2000, description="Number of descent steps.")


def seed_loss(goal: Goal, lam: float, x0: torch.Tensor, temperature: float):
    """The objective to ascend (the seed's loss, negated), as a function of (x, logits) -> (N,)."""

    def objective(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(logits / temperature, dim=1)
        if goal.target is not None:
            miss = 0.5 * (probs - F.one_hot(goal.target, probs.shape[1])).pow(2).sum(1)
        else:
            miss = -0.5 * (probs - F.one_hot(goal.labels, probs.shape[1])).pow(2).sum(1)
        return -(miss + lam * (x - x0).flatten(1).pow(2).sum(1))

    return objective


def descend(
    model: nn.Module,
    x0: torch.Tensor,
    start: torch.Tensor,
    goal: Goal,
    lam: float,
    params: NoiseParams | ProximityParams,
    recorder: Trace,
) -> torch.Tensor:
    """Descend the seed's loss from ``start`` with Adam, clipping to [0,1]. (N, C, H, W).

    Adam rather than plain steps: the softmax saturates on a confident model, so the raw gradient
    is tiny at first; Adam's per-pixel scaling keeps the step size meaningful."""
    objective = seed_loss(goal, lam, x0, params.temperature)
    x = start.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([x], lr=params.lr)
    for i in range(params.steps):
        logits = model(x)
        loss = -objective(x, logits)
        record_first(recorder, i, x0, x.detach(), logits.detach(), loss.detach())
        optimiser.zero_grad()
        loss.sum().backward()
        optimiser.step()
        with torch.no_grad():
            x.clamp_(0.0, 1.0)
    return x.detach()


class Proximity(Attack[ProximityParams]):
    name = "proximity"
    title = "Optimisation attack (L2 proximity)"
    norm = "l2"
    Params = ProximityParams
    paper = "Szegedy et al. 2014, arXiv:1312.6199; seed 002's formulation"

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: ProximityParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        return descend(model, x, x, goal, params.lam, params, recorder), params.steps


class FoolingNoise(Attack[NoiseParams]):
    name = "fooling-noise"
    title = "Fooling image from noise"
    norm = "l2"
    supports_untargeted = False
    starts_from_noise = True
    Params = NoiseParams
    paper = "Nguyen et al. 2015, arXiv:1412.1897; seeds 002 and 004"

    def start(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return torch.rand(x.shape, generator=generator).to(x.device)

    def perturb(
        self,
        model: nn.Module,
        x: torch.Tensor,
        goal: Goal,
        params: NoiseParams,
        generator: torch.Generator,
        recorder: Trace,
    ) -> tuple[torch.Tensor, int]:
        return descend(model, x, x, goal, 0.0, params, recorder), params.steps
