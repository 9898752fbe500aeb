"""Small image makers for the tests."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def photo_of_digit(digit: Image.Image, seed: int = 0) -> Image.Image:
    """An MNIST digit as if written on paper and photographed: dark ink on uneven light paper,
    large, off-centre, with sensor noise; RGB, 480x360."""
    rng = np.random.default_rng(seed)
    ink = np.asarray(digit.convert("L").resize((168, 168), Image.Resampling.BICUBIC), dtype=np.float32) / 255
    h, w = 360, 480
    yy, xx = np.mgrid[0:h, 0:w]
    paper = 0.78 + 0.15 * xx / w - 0.08 * yy / h  # light falling off across the sheet
    top, left = 60, 250
    region = paper[top : top + 168, left : left + 168]
    paper[top : top + 168, left : left + 168] = region * (1 - 0.85 * ink)
    noisy = np.clip(paper + rng.normal(0, 0.02, paper.shape), 0, 1)
    rgb = np.stack([noisy * 0.98, noisy * 0.95, noisy * 0.9], axis=2)
    return Image.fromarray((rgb * 255).astype(np.uint8), "RGB")


def pick_from_gallery(page, ref: str) -> None:
    """Choose a gallery picture as a person does: open the folded picker if needed, click the thumb."""
    picker = page.locator("details.picker")
    if not picker.evaluate("d => d.open"):
        picker.locator("summary").click()
    page.locator(f"label.thumb:has(input[value='{ref}'])").click()
