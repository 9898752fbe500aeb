"""Input transforms ("feature squeezing", Xu et al. 2018): JPEG compression, bit-depth reduction
and a median filter, applied to pixels (N, C, H, W) in [0,1] before the model sees them.

They often undo small perturbations, and an attacker who knows about them can usually adapt
(Athalye et al. 2018): the defenses page shows both sides.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image

from app.media import imaging


@dataclass(frozen=True)
class Transform:
    name: str
    title: str
    param: str  # the one parameter's name
    default: int
    low: int
    high: int
    apply: Callable[[torch.Tensor, int], torch.Tensor]


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Each image through an 8-bit JPEG at ``quality`` (1-100) and back."""
    out = []
    for image in x.cpu():
        buf = io.BytesIO()
        imaging.tensor_to_image(image).save(buf, format="JPEG", quality=quality)
        out.append(imaging.image_to_tensor(Image.open(buf)))
    return torch.stack(out).to(x.device)


def bit_depth(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Each value rounded to 2**bits levels."""
    levels = 2**bits - 1
    return torch.round(x * levels) / levels


def median(x: torch.Tensor, size: int) -> torch.Tensor:
    """A size x size median filter per channel (odd size), edges reflected."""
    pad = size // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    windows = padded.unfold(2, size, 1).unfold(3, size, 1)  # (N, C, H, W, size, size)
    return windows.flatten(-2).median(dim=-1).values


TRANSFORMS = {
    t.name: t
    for t in [
        Transform("jpeg", "JPEG compression", "quality", 75, 1, 100, jpeg),
        Transform("bits", "Bit-depth reduction", "bits", 3, 1, 8, bit_depth),
        Transform("median", "Median filter", "size", 3, 3, 7, lambda x, s: median(x, s | 1)),
    ]
}
