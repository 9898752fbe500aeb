"""What an 8-bit PNG keeps of an adversarial image, and a final step so that it still fools.

Saving rounds every value to a multiple of 1/255. Rounding to the nearest can move a value away
from the original (at ε = 0.1 a step of 25.5/255 would become 26/255, outside the ε-ball), so the
saved image is quantised toward the original instead: each value keeps the whole 1/255 steps of
its change and drops the fraction. The saved image is then never further from the original than
the attack's own, in every norm, and the norms reported are the saved image's.

Minimal-perturbation attacks (DeepFool, C&W) stop just past the decision boundary, where dropping
those fractions often undoes the attack. ``survive_saving`` grows their change a little, image by
image, until the saved image still reaches the goal.
"""

from __future__ import annotations

import torch
from torch import nn

from app.attacks.base import Goal

TOLERANCE = 2.0**-12  # of one 1/255 step: float error (at most ~1e-4), not a fraction to drop
GROWTH = (1.0, 1.05, 1.1, 1.2, 1.35, 1.5, 1.75, 2.0)  # factors tried on the change, smallest first


def saved_pixels(x: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
    """x as an 8-bit PNG keeps it, quantised toward x0 (itself rounded to 8 bits), in [0, 1].

    Computed in float32 in this order, as static/js/sweep.js repeats it in the browser."""
    base = x0.mul(255).round()
    change = x.mul(255) - base
    return (base + change.sign() * (change.abs() + TOLERANCE).floor()).div(255)


@torch.no_grad()
def survive_saving(model: nn.Module, x0: torch.Tensor, x: torch.Tensor, goal: Goal) -> torch.Tensor:
    """x with each successful image replaced by the saved form of its change grown by the smallest
    factor in GROWTH whose saved image still reaches the goal; images that fail, or that no factor
    saves, keep their saved form as is. The result is on the 8-bit grid."""
    works = goal.achieved(model(x))
    result = saved_pixels(x, x0)
    pending = works.clone()
    for factor in GROWTH:
        if not pending.any():
            break
        candidate = saved_pixels((x0 + factor * (x - x0)).clamp(0.0, 1.0), x0)
        holds = pending & goal.achieved(model(candidate))
        result[holds] = candidate[holds]
        pending &= ~holds
    return result
