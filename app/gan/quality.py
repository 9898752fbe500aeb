"""How good a generator is: what a classifier makes of its samples, and the Fréchet distance
between feature statistics of generated and real images (Heusel et al. 2017, "FID", here on the
judge's own features rather than Inception's)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from app.gan.latent import latents

CONFIDENT = 0.9


@torch.no_grad()
def generate(generator: nn.Module, n: int, seed: int, device: torch.device | str, batch: int = 500) -> torch.Tensor:
    """n samples (n, C, H, W) in [0,1] on the CPU, latents (seed, 0..n-1)."""
    nz = generator.cfg.nz
    out = [generator(latents(seed, range(start, min(n, start + batch)), nz).to(device)).cpu()
           for start in range(0, n, batch)]
    return torch.cat(out)


@torch.no_grad()
def judge_report(images: torch.Tensor, judge: nn.Module, device: torch.device | str, batch: int = 1000) -> dict:
    """Share of samples the judge is sure about, and how the samples spread over its classes."""
    probs = torch.cat([torch.softmax(judge(x.to(device)), 1).cpu() for x in images.split(batch)])
    top, label = probs.max(1)
    shares = torch.bincount(label, minlength=probs.shape[1]).float() / len(images)
    return {"samples": len(images), "confident_share": round(float((top >= CONFIDENT).float().mean()), 4),
            "confidence_threshold": CONFIDENT, "class_shares": [round(float(s), 4) for s in shares]}


@torch.no_grad()
def features(fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, device: torch.device | str,
             batch: int = 1000) -> torch.Tensor:
    """(N, F) float64 features of images (N, C, H, W), computed in batches."""
    return torch.cat([fn(x.to(device)).double().cpu() for x in images.split(batch)])


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½) between two feature sets (N, F), float64.

    Tr((Σa Σb)^½) is the sum of the square roots of the eigenvalues of Σa^½ Σb Σa^½, which is
    symmetric, so only symmetric eigendecompositions are needed."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    root_a = _sqrtm_psd(cov_a)
    middle = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    return float((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * middle)


def _sqrtm_psd(m: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(m)
    return vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T
