"""Norm balls in pixel space: steps, projections and the distances reported with every result."""

from __future__ import annotations

import torch

TINY = 1e-12


def flat_norm(v: torch.Tensor) -> torch.Tensor:
    """(N, ...) -> (N,) L2 norm of each image."""
    return v.flatten(1).norm(dim=1)


def per_image(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(N,) -> (N, 1, 1, 1), broadcastable against ``like`` (N, C, H, W)."""
    return v.view(-1, *([1] * (like.dim() - 1)))


def l2_direction(grad: torch.Tensor) -> torch.Tensor:
    """The gradient scaled to unit L2 norm per image (the L2 steepest-ascent step)."""
    return grad / per_image(flat_norm(grad).clamp_min(TINY), grad)


def project(x_adv: torch.Tensor, x0: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    """Back into the eps-ball around x0 (L∞ or L2), then into the [0,1] box."""
    delta = x_adv - x0
    if norm == "linf":
        delta = delta.clamp(-eps, eps)
    else:
        factor = (eps / flat_norm(delta).clamp_min(TINY)).clamp(max=1.0)
        delta = delta * per_image(factor, delta)
    return (x0 + delta).clamp(0.0, 1.0)


def random_start(x0: torch.Tensor, eps: float, norm: str, generator: torch.Generator) -> torch.Tensor:
    """A uniformly random point of the ball (L∞: uniform per pixel; L2: uniform in the ball)."""
    noise = torch.rand(x0.shape, generator=generator).to(x0.device)
    if norm == "linf":
        return project(x0 + (2 * noise - 1) * eps, x0, eps, norm)
    gauss = torch.randn(x0.shape, generator=generator).to(x0.device)
    radius = eps * noise.flatten(1)[:, 0] ** (1.0 / x0[0].numel())
    return project(x0 + l2_direction(gauss) * per_image(radius, x0), x0, eps, norm)


def distances(x_adv: torch.Tensor, x0: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per image (N,): L0 (changed values), L2, L∞ and PSNR in dB (inf when unchanged)."""
    delta = (x_adv - x0).flatten(1)
    mse = delta.pow(2).mean(dim=1)
    return {
        "l0": (delta.abs() > 1e-6).sum(dim=1).float(),
        "l2": delta.norm(dim=1),
        "linf": delta.abs().amax(dim=1),
        "psnr": torch.where(mse > 0, -10 * torch.log10(mse.clamp_min(TINY)), torch.full_like(mse, float("inf"))),
    }
