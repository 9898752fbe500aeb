"""The G/D game of seed 002: one training step, with either generator cost and k discriminator steps.

Discriminator cost  J(D) = −mean log D(x) − mean log(1 − D(G(z))).
Generator cost, saturating      J(G) = mean log(1 − D(G(z)))   (minus J(D)'s fake term)
                non-saturating  J(G) = −mean log D(G(z))        (the usual fix)
With D(·) = σ(logit): log D = −softplus(−logit) and log(1 − D) = −softplus(logit), which stay
exact where D is near 0 or 1. Used by ``advlab train dcgan-*`` and by the live training lab.

The hinge loss (Lim & Ye 2017; Miyato et al. 2018, with spectral norm) is the other choice:
J(D) = mean max(0, 1 − D(x)) + mean max(0, 1 + D(G(z))) on raw scores, J(G) = −mean D(G(z)).
D stops pushing a sample once it is past the margin, so it spends its capacity on the ones near
the boundary. A conditional pair draws labels with its batches: real_batch and noise then return
(images, labels) and (z, labels). When D also names the class (GanConfig.classifier), both costs
gain a cross-entropy term, weighted by ``class_weight``: D's for naming real images' classes, G's
for having its samples named as the class it was asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Cost = Literal["saturating", "non-saturating"]
Loss = Literal["logistic", "hinge"]
Batch = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # images or z, with labels (N,) when conditional


def d_cost(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """J(D); real_label < 1 is one-sided label smoothing (Salimans et al. 2016): the target for real
    images becomes real_label, which keeps D from growing over-confident on a small dataset."""
    real = real_label * F.softplus(-real_logits) + (1 - real_label) * F.softplus(real_logits)
    return real.mean() + F.softplus(fake_logits).mean()


def d_hinge(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """J(D) of the hinge loss, on raw scores."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def g_cost(fake_logits: torch.Tensor, cost: Cost) -> torch.Tensor:
    return _per_sample(fake_logits, cost).mean()


def cost_curve(d_of_g: torch.Tensor, cost: Cost) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample J(G) and |dJ/d logit| (what reaches the generator) at each D(G(z)) in (0, 1).

    Saturating: dJ/d logit = −D(G(z)), which vanishes exactly where a young generator sits
    (D(G(z)) ≈ 0). Non-saturating: −(1 − D(G(z))), largest there."""
    logit = torch.logit(d_of_g.double()).requires_grad_(True)
    value = _per_sample(logit, cost)
    (grad,) = torch.autograd.grad(value.sum(), logit)
    return value.detach(), grad.abs()


def _per_sample(logit: torch.Tensor, cost: Cost) -> torch.Tensor:
    return -F.softplus(logit) if cost == "saturating" else F.softplus(-logit)


@dataclass
class Players:
    generator: nn.Module
    discriminator: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer


@dataclass(frozen=True)
class StepStats:
    d_loss: float
    g_loss: float
    d_real: float  # mean D(x) on the last real batch
    d_fake: float  # mean D(G(z)) before the generator's update
    g_grad_norm: float  # norm of the generator's parameter gradient


def train_step(
    p: Players,
    real_batch: Callable[[], Batch],
    noise: Callable[[], Batch],
    cost: Cost = "non-saturating",
    k: int = 1,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    real_label: float = 1.0,
    loss: Loss = "logistic",
    stats: bool = True,
    class_weight: float = 1.0,
) -> StepStats | None:
    """k discriminator updates, then one generator update. real_batch/noise give fresh batches.

    ``augment``, when given, is applied to every image D sees, real and generated alike, and is
    differentiable, so G learns through it (DiffAugment, Zhao et al. 2020: small datasets).
    ``loss="hinge"`` ignores ``cost`` and ``real_label``. ``stats=False`` returns None and reads
    nothing back from the device, so a GPU never waits for the Python side between steps."""
    view = augment or (lambda x: x)
    classifies = getattr(p.discriminator, "classify", None) is not None
    for _ in range(k):
        real, real_y = _split(real_batch())
        z, fake_y = _split(noise())
        with torch.no_grad():
            fake = _call(p.generator, z, fake_y)
        if classifies:
            real_logits, real_classes = p.discriminator(view(real), real_y, classes=True)
        else:
            real_logits = _call(p.discriminator, view(real), real_y)
        fake_logits = _call(p.discriminator, view(fake), fake_y)
        loss_d = d_hinge(real_logits, fake_logits) if loss == "hinge" else d_cost(real_logits, fake_logits, real_label)
        if classifies:
            assert real_y is not None, "a discriminator that names the class needs labelled batches"
            loss_d = loss_d + class_weight * F.cross_entropy(real_classes, real_y)
        p.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        p.opt_d.step()
    z, fake_y = _split(noise())
    if classifies:
        fake_logits, fake_classes = p.discriminator(view(_call(p.generator, z, fake_y)), fake_y, classes=True)
    else:
        fake_logits = _call(p.discriminator, view(_call(p.generator, z, fake_y)), fake_y)
    loss_g = -fake_logits.mean() if loss == "hinge" else g_cost(fake_logits, cost)
    if classifies:
        assert fake_y is not None, "a discriminator that names the class needs labelled batches"
        loss_g = loss_g + class_weight * F.cross_entropy(fake_classes, fake_y)
    p.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    grad_norm = _grad_norm(p.generator) if stats else None
    p.opt_g.step()
    if grad_norm is None:  # stats=False
        return None
    return StepStats(
        float(loss_d.detach()),
        float(loss_g.detach()),
        float(torch.sigmoid(real_logits.detach()).mean()),
        float(torch.sigmoid(fake_logits.detach()).mean()),
        float(grad_norm),
    )


def _split(batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
    return (batch, None) if isinstance(batch, torch.Tensor) else batch


def _call(net: nn.Module, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    return net(x) if labels is None else net(x, labels)


def _grad_norm(net: nn.Module) -> torch.Tensor:
    return torch.linalg.vector_norm(torch.stack([q.grad.norm() for q in net.parameters() if q.grad is not None]))


def translate(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image (N, C, H, W) by whole pixels, up to max_shift each way, filling with black.

    Whole-pixel shifts make bilinear sampling exact; the operation is differentiable in x."""
    n, _, h, w = x.shape
    shift = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator, device=generator.device).float()
    theta = torch.zeros(n, 2, 3, device=generator.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2], theta[:, 1, 2] = shift[:, 0] * 2 / w, shift[:, 1] * 2 / h
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
