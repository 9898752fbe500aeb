"""The gradient of a model's loss with respect to its input pixels, and a check of it by hand.

Backprop gives dL/dx for every pixel in one backward pass. The check recomputes a few entries the
slow way, nudging one pixel at a time (central finite differences), on a float64 copy of the model
so that rounding does not swamp the tiny differences. Models here are piecewise linear (ReLU,
max-pooling), so at some pixels the loss has a corner: its left and right slopes differ and no
derivative exists. Those pixels are reported as kinks instead of being counted as disagreements.

Shapes: one image x is (C, H, W) with pixels in [0, 1]; logits are (N, K).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from app.attacks.base import cross_entropy
from app.zoo.architectures import Classifier

H = 1e-5  # finite-difference step, in pixel units (a pixel spans [0, 1])
KINK = 1e-3  # left and right slopes further apart than this (relatively) mark a corner
CHUNK = 16  # nudged images per forward pass, to bound memory on 224x224 inputs
HEAT_QUANTILE = 0.99  # the heatmap's full colour: larger |dL/dx| (the top 1% of pixels) are clipped

# Anchor colours of the heatmap, from |grad| = 0 (black) to the largest |grad| (pale yellow),
# close to matplotlib's "inferno" and readable in grayscale print-outs.
_HEAT = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float64)


@dataclass
class Check:
    """Backprop against finite differences at k pixels; every tensor is (k,) except pixels (k, 3)."""

    pixels: torch.Tensor  # [c, y, x] per row
    backprop: torch.Tensor
    left: torch.Tensor  # (L(x) - L(x - h e)) / h
    right: torch.Tensor  # (L(x + h e) - L(x)) / h
    h: float

    @property
    def central(self) -> torch.Tensor:
        """(L(x + h e) - L(x - h e)) / 2h, the mean of the two one-sided slopes."""
        return (self.left + self.right) / 2

    @property
    def relative_error(self) -> torch.Tensor:
        return relative_error(self.backprop, self.central)

    @property
    def kink(self) -> torch.Tensor:
        return relative_error(self.left, self.right) > KINK


@dataclass
class GradientReport:
    cls: int  # the class whose loss was differentiated
    probs: torch.Tensor  # (K,) softmax of the float32 model
    loss: float  # cross-entropy of cls, float32 model
    grad: torch.Tensor  # (C, H, W) dL/dx of the float32 model, on the CPU
    float32_error: float  # ||grad32 - grad64|| / ||grad64||
    check: Check


def class_loss(logits: torch.Tensor, cls: int) -> torch.Tensor:
    """Cross-entropy -log softmax(logits)[cls] for each row: (N, K) -> (N,), in the form that stays
    exact when the model is nearly sure of cls (see app.attacks.base.cross_entropy)."""
    return cross_entropy(logits, torch.full((logits.shape[0],), cls, device=logits.device))


def input_gradient(model: Classifier, x: torch.Tensor, cls: int) -> tuple[float, torch.Tensor]:
    """The loss of cls at x (C, H, W) and dL/dx (C, H, W), by one backward pass.

    Only the input requires grad: the model's parameters are frozen and get no gradients.
    """
    with torch.enable_grad():
        xr = x.detach().clone().requires_grad_(True)
        loss = class_loss(model(xr[None]), cls)[0]
        (grad,) = torch.autograd.grad(loss, xr)
    return loss.item(), grad


def relative_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a - b| / max(|a|, |b|) elementwise, 0 where both are 0."""
    scale = torch.maximum(a.abs(), b.abs())
    return torch.where(scale > 0, (a - b).abs() / scale.clamp_min(torch.finfo(scale.dtype).tiny), 0.0)


def pick_pixels(shape: tuple[int, ...], k: int, seed: int) -> torch.Tensor:
    """k distinct random pixels of an image of shape (C, H, W), the same for the same seed: (k, 3)."""
    gen = torch.Generator().manual_seed(seed)
    flat = torch.randperm(math.prod(shape), generator=gen)[: min(k, math.prod(shape))]
    return torch.stack(torch.unravel_index(flat, shape), dim=1)


def one_sided_slopes(
    model: Classifier, x: torch.Tensor, cls: int, pixels: torch.Tensor, h: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Left and right difference quotients (k,) of the loss at x (C, H, W) along each pixel (k, 3)."""
    k = len(pixels)
    batch = x.expand(2 * k + 1, *x.shape).clone()  # k nudged up, k nudged down, x itself
    rows, (c, y, w) = torch.arange(k, device=x.device), pixels.to(x.device).T
    batch[rows, c, y, w] += h
    batch[rows + k, c, y, w] -= h
    with torch.no_grad():
        losses = torch.cat([class_loss(model(part), cls) for part in batch.split(CHUNK)])
    up, down, at = losses[:k], losses[k : 2 * k], losses[2 * k]
    return (at - down) / h, (up - at) / h


def check_gradient(
    model: Classifier, x: torch.Tensor, cls: int, k: int, seed: int, h: float = H
) -> tuple[Check, torch.Tensor]:
    """Backprop vs finite differences at k seeded pixels, both in float64; also the float64 gradient."""
    model64, x64 = copy.deepcopy(model).double(), x.double()
    _, grad64 = input_gradient(model64, x64, cls)
    pixels = pick_pixels(tuple(x.shape), k, seed)
    left, right = one_sided_slopes(model64, x64, cls, pixels, h)
    c, y, w = pixels.T
    check = Check(pixels, grad64.cpu()[c, y, w], left.cpu(), right.cpu(), h)
    return check, grad64.cpu()


def explain(
    model: Classifier, x: torch.Tensor, target: int | None, truth: int | None, k: int, seed: int, device: torch.device
) -> GradientReport:
    """Everything the gradient page shows, for x (C, H, W) in [0, 1]. Runs on the executor's thread.

    The class is ``target`` if given, else the true label if known, else the model's top class.
    """
    x = x.to(device)
    with torch.no_grad():
        probs = torch.softmax(model(x[None]), dim=1)[0].cpu()
    cls = next(c for c in (target, truth, int(probs.argmax())) if c is not None)
    loss, grad = input_gradient(model, x, cls)
    check, grad64 = check_gradient(model, x, cls, k, seed)
    grad = grad.cpu()
    float32_error = ((grad.double() - grad64).norm() / grad64.norm()).item() if grad64.any() else 0.0
    return GradientReport(cls, probs, loss, grad, float32_error, check)


def heatmap(grad: torch.Tensor, quantile: float = HEAT_QUANTILE) -> tuple[Image.Image, float]:
    """|dL/dx| of grad (C, H, W), the largest over channels, as a colour image (H, W), and its full scale.

    Colours are linear in |dL/dx| from 0 (black) to the given quantile of it (pale yellow; larger values
    are clipped), so that a handful of extreme pixels do not leave the rest of the map black.
    """
    magnitude = grad.abs().amax(dim=0).double().numpy()  # (H, W)
    top = float(np.quantile(magnitude, quantile)) or float(magnitude.max())
    scaled = np.clip(magnitude / top, 0.0, 1.0) if top > 0 else magnitude
    stops = np.linspace(0.0, 1.0, len(_HEAT))
    rgb = np.stack([np.interp(scaled, stops, _HEAT[:, i]) for i in range(3)], axis=-1)
    return Image.fromarray(np.round(rgb).astype(np.uint8), "RGB"), top


def sign_map(grad: torch.Tensor) -> torch.Tensor:
    """0.5 + 0.5 sign(grad): black where dL/dx < 0, gray where 0, white where > 0; (C, H, W) in [0, 1].

    This is the direction FGSM steps in, per pixel and channel.
    """
    return 0.5 + 0.5 * torch.sign(grad)
