"""What a class-conditional generator (app.gan.networks.ConditionalGenerator) can show that an
unconditional one cannot: a chosen digit, one latent drawn as every digit, and a path from one
digit to another at a fixed latent (through the label embeddings, which are learned vectors).

Pure torch on the generator's device; images come back (N, C, H, W) in [0, 1] on the CPU.
"""

from __future__ import annotations

import torch

from app.gan.networks import ConditionalGenerator


def _device(generator: ConditionalGenerator) -> torch.device:
    return next(generator.parameters()).device


@torch.no_grad()
def draw_class(generator: ConditionalGenerator, z: torch.Tensor, label: int) -> torch.Tensor:
    """The digit ``label`` for each latent of z (N, nz)."""
    labels = torch.full((len(z),), label, dtype=torch.long)
    return generator(z.to(_device(generator)), labels.to(_device(generator))).cpu()


@torch.no_grad()
def all_classes(generator: ConditionalGenerator, z: torch.Tensor) -> torch.Tensor:
    """One latent z (nz,) drawn as every class: (K, C, H, W), class k in row k. What stays the same
    across them (slant, stroke width) is what z holds; the label holds the digit."""
    k = generator.cfg.num_classes
    labels = torch.arange(k, device=_device(generator))
    return generator(z.to(_device(generator)).expand(k, -1), labels).cpu()


def embedding_path(generator: ConditionalGenerator, start: int, end: int, steps: int) -> torch.Tensor:
    """(steps, embed_dim): the straight line from class ``start``'s embedding to ``end``'s, ends included."""
    table = generator.embed.weight.detach()
    t = torch.linspace(0, 1, steps, device=table.device)[:, None]
    return (1 - t) * table[start] + t * table[end]


@torch.no_grad()
def interpolate_classes(
    generator: ConditionalGenerator, z: torch.Tensor, start: int, end: int, steps: int
) -> torch.Tensor:
    """One latent z (nz,) drawn along the path from digit ``start`` to digit ``end``: (steps, C, H, W).
    The first and last frames are exactly draw_class(z, start) and draw_class(z, end)."""
    path = embedding_path(generator, start, end, steps)
    return generator.decode(z.to(path.device).expand(steps, -1), path).cpu()
