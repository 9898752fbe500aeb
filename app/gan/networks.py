"""DCGAN generator and discriminator (Radford et al. 2016, arXiv:1511.06434), sized by a config.

Both speak pixels in [0, 1], like every other model here: the generator's tanh output is mapped
to [0, 1] and the discriminator maps its input back to [-1, 1]. A config (saved beside the
weights) is enough to rebuild either network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class GanConfig:
    nz: int = 100  # latent size
    channels: int = 1  # image channels
    base: int = 7  # side of the first feature map; the image side is base * 2**stages
    stages: int = 2  # stride-2 up/down-sampling layers
    g_width: int = 64  # generator channels in its last hidden layer (doubling toward z)
    d_width: int = 64  # discriminator channels in its first layer (doubling toward the output)

    @property
    def side(self) -> int:
        return self.base * 2 ** self.stages

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class Generator(nn.Module):
    """z (N, nz) -> images (N, C, side, side) in [0, 1]."""

    def __init__(self, cfg: GanConfig) -> None:
        super().__init__()
        self.cfg = cfg
        width = cfg.g_width * 2 ** (cfg.stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(cfg.nz, width, cfg.base, 1, 0, bias=False),
            nn.BatchNorm2d(width), nn.ReLU(True),
        ]
        for _ in range(cfg.stages - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, cfg.channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None]).add(1).mul(0.5)


class Discriminator(nn.Module):
    """Images (N, C, side, side) in [0, 1] -> logits (N,): positive means "real"."""

    def __init__(self, cfg: GanConfig) -> None:
        super().__init__()
        self.cfg = cfg
        width = cfg.d_width
        layers: list[nn.Module] = [nn.Conv2d(cfg.channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for _ in range(cfg.stages - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2, True)]
            width *= 2
        layers += [nn.Conv2d(width, 1, cfg.base, 1, 0, bias=False), nn.Flatten()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.mul(2).sub(1))[:, 0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer, flattened: (N, F)."""
        return self.net[:-2](x.mul(2).sub(1)).flatten(1)


def init_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
