"""What the live GAN-training lab trains: 2D toy distributions with small MLPs, and a tiny MLP GAN
on MNIST digits. Small enough to train in real time on a CPU, several students at once."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

TOY_LATENT = 8
MNIST_LATENT = 64
MNIST_SUBSET = 10_000  # the first 10,000 training digits


def ring(n: int, g: torch.Generator) -> torch.Tensor:
    """8 Gaussians (std 0.05) on the unit circle: the classic mode-collapse test."""
    angle = torch.randint(0, 8, (n,), generator=g) * (2 * math.pi / 8)
    return torch.stack([angle.cos(), angle.sin()], 1) + 0.05 * torch.randn(n, 2, generator=g)


def grid(n: int, g: torch.Generator) -> torch.Tensor:
    """25 Gaussians (std 0.05) on a 5x5 grid over [-1, 1]²."""
    cells = torch.randint(0, 5, (n, 2), generator=g).float() * 0.5 - 1
    return cells + 0.05 * torch.randn(n, 2, generator=g)


def moons(n: int, g: torch.Generator) -> torch.Tensor:
    """Two interleaved half circles, scaled into about [-1, 1]²."""
    t = torch.rand(n, generator=g) * math.pi
    upper = torch.rand(n, generator=g) < 0.5
    x = torch.where(upper, t.cos(), 1 - t.cos())
    y = torch.where(upper, t.sin(), 0.5 - t.sin())
    points = torch.stack([x - 0.5, y - 0.25], 1) * 0.9
    return points + 0.04 * torch.randn(n, 2, generator=g)


def line(n: int, g: torch.Generator) -> torch.Tensor:
    """A thin diagonal segment: a distribution with no area at all."""
    t = torch.rand(n, generator=g) * 2 - 1
    return torch.stack([t, 0.5 * t], 1) + 0.02 * torch.randn(n, 2, generator=g)


TOYS: dict[str, Callable[[int, torch.Generator], torch.Tensor]] = {
    "ring": ring,
    "grid": grid,
    "moons": moons,
    "line": line,
}


def toy_players(hidden: int = 64) -> tuple[nn.Module, nn.Module]:
    """G: latent (8) -> point (2); D: point (2) -> logit."""
    g = nn.Sequential(
        nn.Linear(TOY_LATENT, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2)
    )
    d = nn.Sequential(
        nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Flatten(0)
    )
    return g, d


class _Pixels(nn.Module):
    """Reshape flat outputs in [0,1] to (N, 1, 28, 28)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x).view(-1, 1, 28, 28)


def mnist_players(hidden: int = 256) -> tuple[nn.Module, nn.Module]:
    """G: latent (64) -> 28x28 pixels in [0,1]; D: pixels -> logit. Two-layer MLPs."""
    g = nn.Sequential(
        nn.Linear(MNIST_LATENT, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, 784),
        _Pixels(),
    )
    d = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, 1),
        nn.Flatten(0),
    )
    return g, d


_mnist_cache: dict[Path, torch.Tensor] = {}


def mnist_digits(data_dir: Path) -> torch.Tensor:
    """The first MNIST_SUBSET training digits, (N, 1, 28, 28) in [0,1], read once per process."""
    if data_dir not in _mnist_cache:
        from app.media.data import load_split

        _mnist_cache[data_dir] = load_split("mnist", data_dir, train=True)[0][:MNIST_SUBSET].clone()
    return _mnist_cache[data_dir]
