"""Accuracy under attack: the one measurement behind ``advlab eval --robust``, the robustness
curves, the transfer matrix and the benchmarks. Attacks come from the registry, run in batches."""

from __future__ import annotations

import threading
from collections.abc import Callable

import torch
from torch import nn

from app.attacks import ATTACKS
from app.attacks.base import Budget, Goal, Recorder

Progress = Callable[[int, int], None]  # (images done, images in all)


def adversarial_examples(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    attack: str,
    params: dict,
    *,
    seed: int = 0,
    batch: int = 500,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> torch.Tensor:
    """Untargeted adversarial versions of x (N, C, H, W) against ``model`` (on the CPU). When
    ``cancel`` is set the attack stops at its next step (ClientGone)."""
    chosen = ATTACKS[attack]
    p = chosen.Params.model_validate(params)
    generator = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, len(x), batch):
        xb, yb = x[start : start + batch].to(device), y[start : start + batch].to(device)
        watch = (
            None if cancel is None else Recorder(int(yb[0]), None, snapshot_every=2**31, budget=Budget(cancel=cancel))
        )
        adv, _ = chosen.perturb(model, chosen.start(xb, generator), Goal(yb), p, generator, watch)
        out.append(adv.detach().cpu())
        if progress:
            progress(min(start + batch, len(x)), len(x))
    return torch.cat(out)


@torch.no_grad()
def correct(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch: int = 1000, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """(N,) bool: the model's answer is the label."""
    return torch.cat([model(xb.to(device)).argmax(1).cpu() == yb for xb, yb in zip(x.split(batch), y.split(batch))])


def accuracy_under_attack(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, attack: str, params: dict, **kwargs
) -> float:
    """Share of images still classified correctly after the attack (ε = 0: clean accuracy)."""
    adv = adversarial_examples(model, x, y, attack, params, **kwargs)
    return float(correct(model, adv, y, device=kwargs.get("device", "cpu")).float().mean())


# The suite ``advlab eval NAME --robust`` runs at ε = 0.3: FGSM next to PGD shows gradient
# masking (FGSM stronger than PGD would be a red flag); PGD-100 with 5 restarts is the headline.
ROBUST_SUITE = [
    ("fgsm", {"eps": 0.3}, "FGSM, ε = 0.3"),
    ("pgd", {"eps": 0.3, "alpha": 0.01, "steps": 40, "restarts": 1}, "PGD-40 (step 0.01, random start), ε = 0.3"),
    (
        "pgd",
        {"eps": 0.3, "alpha": 0.01, "steps": 100, "restarts": 5},
        "PGD-100 (step 0.01, random start, 5 restarts), ε = 0.3",
    ),
]
