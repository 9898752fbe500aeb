"""Latent vectors and what can be done with them: sampling by (seed, index), interpolation
(lerp and slerp), and the DCGAN paper's arithmetic over averaged exemplars.

A latent is referenced as (seed, index): z = N(0, I) drawn from a generator seeded with both, so
sample 7 of seed 3 is the same vector whichever grid or request asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

INDEX_BITS = 20  # indices below 2**20 (about a million) per seed
MAX_INDEX = 2**INDEX_BITS - 1


def latent(seed: int, index: int, nz: int) -> torch.Tensor:
    """(nz,) standard normal, a pure function of (seed, index)."""
    g = torch.Generator().manual_seed((seed << INDEX_BITS) + index)
    return torch.randn(nz, generator=g)


def latents(seed: int, indices: Sequence[int], nz: int) -> torch.Tensor:
    """(len(indices), nz)."""
    return torch.stack([latent(seed, i, nz) for i in indices]) if indices else torch.zeros(0, nz)


def noise_like(z: torch.Tensor, scale: float, seed: int, count: int) -> torch.Tensor:
    """(count, nz): z plus seeded Gaussian noise of the given scale; row 0 is z itself."""
    g = torch.Generator().manual_seed(seed)
    jitter = torch.randn(count, z.numel(), generator=g) * scale
    jitter[0] = 0
    return z[None] + jitter


def lerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """(steps, nz) on the straight line from a to b, ends included."""
    t = torch.linspace(0, 1, steps)[:, None]
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """(steps, nz) along the great circle from a to b (White 2016), ends included.

    Gaussian latents live near a sphere of radius √nz; the straight line dips inside it, where
    the generator saw few training latents. Falls back to lerp for (anti)parallel vectors."""
    cos = torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1, 1))
    if omega.abs() < 1e-4 or (torch.pi - omega).abs() < 1e-4:
        return lerp(a, b, steps)
    t = torch.linspace(0, 1, steps)[:, None]
    path = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
    path[0], path[-1] = a, b  # exactly, not to within rounding: the ends are the picks themselves
    return path


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """mean(A) − mean(B) + mean(C): each group (n_i, nz) with n_i ≥ 1 -> (nz,)."""
    return a.mean(0) - b.mean(0) + c.mean(0)
