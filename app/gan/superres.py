"""GAN super-resolution (seed 002; Ledig et al. 2017, SRGAN, arXiv:1609.04802) for small images.

An upscaler turns a low-resolution picture (e.g. a digit at 14x14) into one ``scale`` times larger.
It predicts what bicubic interpolation misses: its output is bicubic(x) plus a learned residual,
computed by residual blocks at the low resolution and a sub-pixel convolution (PixelShuffle) that
rearranges channels into the larger grid.

The same network is trained twice (app/training/superres.py): with a pixel loss only, which
averages over the sharp images that fit and so looks smooth, and then with an adversarial loss
added, where a critic that tells real high-resolution images from upscaled ones pushes the output
back toward sharp strokes, at some cost in pixel error (PSNR). Everything speaks pixels in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass(frozen=True)
class UpscalerConfig:
    channels: int = 1
    low: int = 14  # side of the low-resolution input
    scale: int = 2
    width: int = 32  # channels of the residual blocks
    blocks: int = 3

    @property
    def high(self) -> int:
        return self.low * self.scale

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def downscale(x: torch.Tensor, scale: int) -> torch.Tensor:
    """The low-resolution picture: each output pixel the mean of a scale x scale block (no aliasing)."""
    return F.avg_pool2d(x, scale)


def bicubic(x: torch.Tensor, scale: int) -> torch.Tensor:
    """The classic upscaling the networks are compared with, clipped to the pixel range."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False).clamp(0, 1)


class _Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1),
            nn.BatchNorm2d(width),
            nn.PReLU(width),
            nn.Conv2d(width, width, 3, 1, 1),
            nn.BatchNorm2d(width),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.body(h)


class Upscaler(nn.Module):
    """Low-resolution images (N, C, low, low) -> (N, C, high, high), both in [0, 1]."""

    def __init__(self, cfg: UpscalerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.head = nn.Sequential(nn.Conv2d(cfg.channels, w, 5, 1, 2), nn.PReLU(w))
        self.blocks = nn.Sequential(*[_Block(w) for _ in range(cfg.blocks)])
        upsample: list[nn.Module] = []
        for _ in range(int(math.log2(cfg.scale))):
            upsample += [nn.Conv2d(w, w * 4, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(w)]
        self.upsample = nn.Sequential(*upsample)
        self.tail = nn.Conv2d(w, cfg.channels, 5, 1, 2, bias=False)
        nn.init.zeros_(self.tail.weight)  # starts as bicubic exactly: training only adds what it misses

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x.mul(2).sub(1))
        h = self.upsample(h + self.blocks(h))
        return (bicubic(x, self.cfg.scale) + self.tail(h)).clamp(0, 1)


class Critic(nn.Module):
    """High-resolution images -> scores (N,): positive means "a real image", negative "upscaled".
    Spectrally normalised, trained with the hinge loss (as the digit GANs here)."""

    def __init__(self, cfg: UpscalerConfig, width: int = 64) -> None:
        super().__init__()
        self.cfg = cfg
        side = cfg.high // 4
        self.net = nn.Sequential(
            spectral_norm(nn.Conv2d(cfg.channels, width, 4, 2, 1)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(width, width * 2, 4, 2, 1)),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            spectral_norm(nn.Linear(width * 2 * side * side, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.mul(2).sub(1))[:, 0]


def psnr(x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image (peak 1): 10 log10(1 / MSE); inf where equal."""
    mse = (x - reference).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(1 / mse)


def sharpness(x: torch.Tensor) -> torch.Tensor:
    """Mean gradient magnitude per image: blurred strokes have low values, crisp edges high ones."""
    dx = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).mean(1)
    dy = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
    return dx + dy
