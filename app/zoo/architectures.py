"""Network definitions. Every model takes pixels in [0, 1]; normalisation happens inside it.

A model is rebuilt from ``(architecture, config)`` alone: both are stored in the manifest and in
the safetensors metadata, so a weights file says how to build the network it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


class Normalize(nn.Module):
    """(x - mean) / std per channel, as buffers so they travel with the weights."""

    mean: torch.Tensor  # (1, C, 1, 1), registered as buffers in __init__
    std: torch.Tensor

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Classifier(nn.Module):
    """Normalize then a network: ``forward`` maps pixels (N, C, H, W) in [0,1] to logits (N, K)."""

    def __init__(self, normalize: Normalize, net: nn.Module) -> None:
        super().__init__()
        self.normalize = normalize
        self.net = net
        self.channels_last = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.normalize(x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x)

    def use_channels_last(self) -> Classifier:
        """Convolutions in the NHWC layout: on the CPU about twice as fast for batches (oneDNN)."""
        if any(isinstance(m, nn.Conv2d) for m in self.net.modules()):
            self.to(memory_format=torch.channels_last)
            self.channels_last = True
        return self


def mlp(
    hidden: int = 512, depth: int = 2, dropout: float = 0.2, in_features: int = 784, num_classes: int = 10
) -> nn.Module:
    """The seed-000 network: 784-512-512-10, ReLU, dropout 0.2 after each hidden layer."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def small_cnn(
    channels: Sequence[int] = (32, 64),
    hidden: int = 128,
    dropout: float = 0.25,
    in_channels: int = 1,
    side: int = 28,
    num_classes: int = 10,
) -> nn.Module:
    """Two conv-conv-pool stages then a hidden dense layer: (N,1,28,28) -> (N,10)."""
    layers: list[nn.Module] = []
    width = in_channels
    for out in channels:
        layers += [
            nn.Conv2d(width, out, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(out, out, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        width = out
    spatial = side // 2 ** len(channels)
    layers += [
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(width * spatial * spatial, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    ]
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus the input (through a strided 1x1 conv where the shape changes), ReLU."""

    def __init__(self, width_in: int, width: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width_in, width, 3, stride, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and width_in == width
            else nn.Sequential(nn.Conv2d(width_in, width, 1, stride, bias=False), nn.BatchNorm2d(width))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


def small_resnet(widths: Sequence[int] = (32, 64, 128), in_channels: int = 1, num_classes: int = 10) -> nn.Module:
    """A stem conv, one residual block per width (halving the side after the first), global
    average pooling, a linear layer: (N,1,28,28) -> (N,10). Batch norm throughout, unlike
    small-cnn, so the two fail on different inputs: a second opinion on generated digits."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(),
    ]
    width = widths[0]
    for i, out in enumerate(widths):
        layers.append(ResidualBlock(width, out, 1 if i == 0 else 2))
        width = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)]
    return nn.Sequential(*layers)


def squeezenet1_1(num_classes: int = 1000) -> nn.Module:
    from torchvision.models import squeezenet1_1 as build

    return build(weights=None, num_classes=num_classes)


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "mlp": mlp,
    "small-cnn": small_cnn,
    "small-resnet": small_resnet,
    "squeezenet1_1": squeezenet1_1,
}


def build_classifier(architecture: str, config: dict, mean: Sequence[float], std: Sequence[float]) -> Classifier:
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; known: {sorted(ARCHITECTURES)}")
    return Classifier(Normalize(mean, std), ARCHITECTURES[architecture](**config))
