"""How good a generator is: what a classifier makes of its samples, and the Fréchet distance
between feature statistics of generated and real images (Heusel et al. 2017, "FID", here on the
judge's own features rather than Inception's)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from app.gan.latent import latents
from app.gan.networks import AnyGenerator

CONFIDENT = 0.9


@torch.no_grad()
def generate(
    generator: AnyGenerator,
    n: int,
    seed: int,
    device: torch.device | str,
    batch: int = 500,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """n samples (n, C, H, W) in [0,1] on the CPU, latents (seed, 0..n-1); ``labels`` (n,) are the
    requested classes of a conditional generator."""
    nz = generator.cfg.nz
    out = []
    for start in range(0, n, batch):
        z = latents(seed, range(start, min(n, start + batch)), nz).to(device)
        y = None if labels is None else labels[start : start + len(z)].to(device)
        out.append((generator(z) if y is None else generator(z, y)).cpu())
    return torch.cat(out)


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """(n,) 0, 1, ..., K-1, 0, 1, ...: every class requested equally often."""
    return torch.arange(n) % num_classes


@torch.no_grad()
def judge_probs(images: torch.Tensor, judge: nn.Module, device: torch.device | str, batch: int = 1000) -> torch.Tensor:
    """(N, K) the judge's class probabilities for images (N, C, H, W), on the CPU."""
    return torch.cat([torch.softmax(judge(x.to(device)), 1).cpu() for x in images.split(batch)])


def judge_report(probs: torch.Tensor, requested: torch.Tensor | None = None) -> dict:
    """Share of samples the judge is sure about, how the samples spread over its classes and, for
    a conditional generator, the share it judges as the requested class (``requested``: (N,))."""
    top, label = probs.max(1)
    shares = torch.bincount(label, minlength=probs.shape[1]).float() / len(probs)
    report = {
        "samples": len(probs),
        "confident_share": _share(top >= CONFIDENT),
        "confidence_threshold": CONFIDENT,
        "class_shares": [round(float(s), 4) for s in shares],
    }
    if requested is not None:
        report["requested_share"] = _share(label == requested)
        report["requested_share_per_class"] = [
            _share((label == requested)[requested == k]) for k in range(probs.shape[1])
        ]
    return report


def agreement(probs: list[torch.Tensor], requested: torch.Tensor | None = None) -> dict:
    """What every judge agrees on: the same class with p >= CONFIDENT each, and (conditional) the
    requested class as every judge's top choice."""
    labels = [p.argmax(1) for p in probs]
    same = torch.stack([lab == labels[0] for lab in labels]).all(0)
    sure = torch.stack([p.max(1).values >= CONFIDENT for p in probs]).all(0)
    out = {"confident_share_all_judges": _share(same & sure)}
    if requested is not None:
        out["requested_share_all_judges"] = _share(torch.stack([lab == requested for lab in labels]).all(0))
    return out


def _share(mask: torch.Tensor) -> float:
    return round(float(mask.float().mean()), 4) if mask.numel() else 0.0


@torch.no_grad()
def features(
    fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, device: torch.device | str, batch: int = 1000
) -> torch.Tensor:
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
