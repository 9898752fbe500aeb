"""CycleGAN (seed 002; Zhu et al. 2017, arXiv:1703.10593): unpaired image-to-image translation.

Two domains with no pairs between them (here faces that do not smile and faces that smile) and two
translators: G turns domain A into domain B, F turns B back into A. Each has a discriminator that
tells real pictures of its target domain from translated ones (D_B for G, D_A for F). Nothing says
which smiling face a given face should become; the cycle constraint F(G(x)) ≈ x (and G(F(y)) ≈ y)
makes the translation keep what the domains share (who it is, the hair, the glasses) and change
only what tells them apart.

The translator is a small ResNet (Johnson et al. 2016, as CycleGAN's): a 7x7 convolution, two
stride-2 convolutions down to 16x16, residual blocks there, two transposed convolutions back up and
a 7x7 convolution to RGB, with instance norm throughout. The discriminator is a PatchGAN: a few
stride-2 convolutions ending in one score per overlapping patch rather than one per picture, so it
judges local texture (a mouth, teeth) and stays small. Everything speaks pixels in [0, 1].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TranslatorConfig:
    channels: int = 3
    side: int = 64  # the pictures are side x side
    width: int = 24  # channels at full resolution, doubled at each step down
    downs: int = 2  # stride-2 steps: 64 -> 16
    blocks: int = 4  # residual blocks at the lowest resolution
    d_width: int = 48  # the discriminator's first layer
    d_layers: int = 3  # its stride-2 convolutions: 64 -> 8x8 patches' scores

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def _norm_act(channels: int) -> list[nn.Module]:
    return [nn.InstanceNorm2d(channels, affine=True), nn.ReLU(True)]


class _Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(width, width, 3),
            *_norm_act(width),
            nn.ReflectionPad2d(1),
            nn.Conv2d(width, width, 3),
            nn.InstanceNorm2d(width, affine=True),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


class Translator(nn.Module):
    """Pictures (N, C, side, side) in [0, 1] -> pictures of the other domain, same shape and range."""

    def __init__(self, cfg: TranslatorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(cfg.channels, w, 7), *_norm_act(w)]
        for i in range(cfg.downs):  # (N, w·2^i, s/2^i) -> (N, w·2^(i+1), s/2^(i+1))
            layers += [nn.Conv2d(w << i, w << (i + 1), 3, 2, 1), *_norm_act(w << (i + 1))]
        layers += [_Residual(w << cfg.downs) for _ in range(cfg.blocks)]
        for i in reversed(range(cfg.downs)):
            layers += [nn.ConvTranspose2d(w << (i + 1), w << i, 3, 2, 1, output_padding=1), *_norm_act(w << i)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, cfg.channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.mul(2).sub(1)).add(1).div(2)


class PatchDiscriminator(nn.Module):
    """Pictures (N, C, side, side) in [0, 1] -> scores (N, 1, P, P), one per overlapping patch:
    near 1 "a real picture of my domain", near 0 "translated" (least-squares targets)."""

    def __init__(self, cfg: TranslatorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.d_width
        layers: list[nn.Module] = [nn.Conv2d(cfg.channels, w, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for i in range(1, cfg.d_layers):
            layers += [
                nn.Conv2d(w << (i - 1), w << i, 4, 2, 1),
                nn.InstanceNorm2d(w << i, affine=True),
                nn.LeakyReLU(0.2, True),
            ]
        layers += [nn.Conv2d(w << (cfg.d_layers - 1), 1, 3, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.mul(2).sub(1))


def lsgan_loss(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017), as CycleGAN trains: mean (D - target)², target 1 or 0."""
    return (scores - float(real)).pow(2).mean()


def cycle_loss(x: torch.Tensor, back: torch.Tensor) -> torch.Tensor:
    """The cycle-consistency term: mean |F(G(x)) - x| over pixels (in [0, 1])."""
    return F.l1_loss(back, x)


def cycle_error(x: torch.Tensor, back: torch.Tensor) -> torch.Tensor:
    """Per picture (N,): mean |F(G(x)) - x| over its pixels, the figure the pages and manifest show."""
    return (back - x).abs().flatten(1).mean(1)
