"""All image I/O: decoding and validating uploads, PNG encoding, and turning pictures into model inputs.

Pixels are floats in [0, 1] everywhere past this module.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from app.errors import BadShape, BrokenImage, ImageTooLarge, UnsupportedImage

ACCEPTED = "PNG, JPEG, WebP, GIF or BMP"
# The most one side may exceed the other. Preprocessing scales the shorter side to the model's
# input (256 for ImageNet), so the longer side, and the memory, grow with this ratio: 20 keeps a
# scaled picture under 256 × 5,120; a 20,000,000 × 1 strip would need gigabytes.
MAX_ASPECT_RATIO = 20

# Leading bytes of the formats we accept, checked before Pillow sees the file.
_SIGNATURES = {
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPEG": (b"\xff\xd8\xff",),
    "GIF": (b"GIF87a", b"GIF89a"),
    "BMP": (b"BM",),
}
# Formats we recognise only to name them in the refusal.
_OTHER_SIGNATURES = {
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"%PDF": "PDF",
    b"PK\x03\x04": "ZIP",
    b"\x00\x00\x01\x00": "ICO",
    b"8BPS": "Photoshop",
}


def sniff_format(data: bytes) -> str:
    """The accepted format the bytes start with, or raise UnsupportedImage naming what it looks like."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for fmt, prefixes in _SIGNATURES.items():
        if data.startswith(prefixes):
            return fmt
    raise UnsupportedImage(
        f"This file is not an image AdvLab can read{_looks_like(data)}. Please upload a {ACCEPTED} file."
    )


def _looks_like(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return " (it looks like SVG, a vector drawing)"
    if head.startswith((b"<!doctype", b"<html")):
        return " (it looks like an HTML page)"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return " (it looks like HEIC/AVIF: export it as JPEG first)"
    for prefix, name in _OTHER_SIGNATURES.items():
        if data.startswith(prefix):
            return f" (it looks like {name})"
    return "" if data else " (the file is empty)"


def decode_upload(data: bytes, max_pixels: int) -> Image.Image:
    """Validate and decode an upload into an upright RGB image (first frame of an animation)."""
    fmt = sniff_format(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                _check_pixels(im.size, max_pixels)
                im.seek(0)
                upright = ImageOps.exif_transpose(im)
                return to_rgb(upright)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses while reading the header, before we see the size: a small file can declare
        # billions of pixels (a "decompression bomb").
        limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
        raise ImageTooLarge(
            f"This image says it has more than {limit:,} pixels, too many to open safely. "
            "Please scale it down and upload it again."
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise BrokenImage(
            f"This {fmt} file is damaged or incomplete and cannot be decoded. "
            "Try saving it again, or pick another image."
        ) from exc


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"This image is {width}x{height} = {width * height:,} pixels; the limit is "
            f"{max_pixels:,}. Please scale it down and upload it again."
        )
    if width == 0 or height == 0:
        raise BrokenImage("This image has no pixels.")
    check_proportions(size)


def check_proportions(size: tuple[int, int]) -> None:
    """Refuse a picture too thin to scale for a model (see MAX_ASPECT_RATIO), with a 422."""
    width, height = size
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise BadShape(
            f"This image is {width}×{height}: one side is more than {MAX_ASPECT_RATIO} times the other, "
            "too thin a strip to scale for a model. Please crop it closer to a square."
        )


def to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB; transparency is flattened onto white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        scale = 65535.0 if arr.max(initial=0) > 255 else 255.0
        im = Image.fromarray(np.clip(arr / scale * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if im.mode == "P" or im.mode == "LA" or im.mode == "PA":
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, im)
    return im.convert("RGB")


def encode_png(im: Image.Image, compress_level: int = 6) -> bytes:
    """PNG bytes; ``compress_level`` 1 encodes about a quarter faster and a little larger (zlib's 0-9)."""
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def tensor_to_image(x: torch.Tensor) -> Image.Image:
    """(C, H, W) in [0,1] -> an 8-bit grayscale (C=1) or RGB (C=3) image."""
    return array_to_image(to_uint8(x[None])[0])


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [0,1] -> (N, H, W, C) 8-bit pixels, the whole batch in a few operations."""
    return x.detach().clamp(0, 1).mul(255).round().byte().cpu().permute(0, 2, 3, 1).numpy()


def array_to_image(arr: np.ndarray) -> Image.Image:
    """(H, W, C) 8-bit pixels -> a grayscale (C=1) or RGB (C=3) image."""
    return Image.fromarray(arr[:, :, 0], "L") if arr.shape[2] == 1 else Image.fromarray(arr, "RGB")


def image_to_tensor(im: Image.Image) -> torch.Tensor:
    """An L or RGB image -> (C, H, W) float in [0,1]."""
    arr = np.asarray(im, dtype=np.float32) / 255.0
    arr = arr[:, :, None] if arr.ndim == 2 else arr
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


# --- making model inputs ---------------------------------------------------------------------


def prepare(im: Image.Image, preprocess: str, input_shape: tuple[int, int, int]) -> Image.Image:
    """The picture the model will see: grayscale 28x28 for MNIST-style models, RGB crop for ImageNet.
    ``preprocess`` names an entry of PREPARERS (a model's manifest entry says which)."""
    check_proportions(im.size)  # also for pictures stored before this limit existed
    if preprocess not in PREPARERS:
        raise ValueError(f"unknown preprocessing {preprocess!r}; known: {', '.join(PREPARERS)}")
    return PREPARERS[preprocess](im, input_shape)


def _imagenet(im: Image.Image, input_shape: tuple[int, int, int]) -> Image.Image:
    """Resize and centre-crop like torchvision's ImageNet weights; a picture already of the input
    size (an earlier result, say) is used as it is."""
    _, height, width = input_shape
    if im.size == (width, height):
        return im.convert("RGB")
    return resize_center_crop(im, resize=int(round(height * 256 / 224)), crop=(width, height))


def _ink_on_dark(im: Image.Image, thin_strokes: bool) -> np.ndarray:
    """Grayscale in [0,1] with the subject light on a black background, paper texture removed.

    Photos of handwriting are dark ink on light paper under uneven light; MNIST is the opposite.
    The border tells which way round the picture is. Behind thin strokes the background is
    estimated locally (a low rank filter that ignores the strokes, then a blur), so light falling
    off across the sheet does not turn into ink; behind solid objects it is the border's level.
    """
    g = _gray(im)
    if _border_median(g) > 0.5:
        g = 1.0 - g
    g = np.clip(g - (_background(g) if thin_strokes else _border_median(g)), 0.0, None)
    top = float(np.percentile(g, 99.5))
    if top < 0.05:  # a blank picture: nothing to find
        return np.zeros_like(g)
    g = np.clip(g / top, 0.0, 1.0)
    g[g < 0.25] = 0.0  # shadows and paper grain
    return g


def _background(g: np.ndarray, work: int = 64, window: int = 9) -> np.ndarray:
    """The paper's level under each pixel, from a small copy of the picture."""
    h, w = g.shape
    if max(h, w) < 2 * window:
        return np.full_like(g, np.median(g))
    scale = min(1.0, work / max(h, w))
    small = Image.fromarray((g * 255).astype(np.uint8), "L").resize(
        (max(window, round(w * scale)), max(window, round(h * scale))), Image.Resampling.BOX
    )
    # the 20th percentile of each window: strokes cover less than that, paper the rest
    small = small.filter(ImageFilter.RankFilter(window, window * window // 5))
    small = small.filter(ImageFilter.GaussianBlur(window / 3))
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0


def _crop_to_content(g: np.ndarray, keep: float = 0.995) -> np.ndarray:
    """The box holding the ink, leaving out stray specks that carry almost none of it."""
    mass = g.sum()
    if mass == 0:
        return g
    (r0, r1), (c0, c1) = (_span(g.sum(axis=axis) / mass, keep) for axis in (1, 0))
    return g[r0:r1, c0:c1]


def _span(profile: np.ndarray, keep: float) -> tuple[int, int]:
    cumulative = np.cumsum(profile)
    cut = (1.0 - keep) / 2
    return int(np.searchsorted(cumulative, cut)), int(np.searchsorted(cumulative, 1.0 - cut)) + 1


def _fit(g: np.ndarray, side: int) -> np.ndarray:
    """Resize (antialiased) so the longer side is ``side``, keeping the aspect ratio."""
    h, w = g.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    img = Image.fromarray((g * 255).astype(np.uint8), "L").resize(size, Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.float32) / 255.0


def digit_like_mnist(im: Image.Image) -> Image.Image:
    """MNIST's recipe: ink on black, cropped, fitted in 20x20, centred by mass in 28x28.

    A 28x28 picture with a dark background is taken to be MNIST-shaped already and kept as is.
    """
    if im.size == (28, 28) and _is_dark_background(im):
        return im.convert("L")
    g = _fit(_crop_to_content(_ink_on_dark(im, thin_strokes=True)), 20)
    canvas = np.zeros((28, 28), dtype=np.float32)
    h, w = g.shape
    mass = g.sum()
    cy, cx = ((np.indices(g.shape) * g).reshape(2, -1).sum(1) / mass) if mass > 0 else (h / 2, w / 2)
    top = int(np.clip(round(14 - cy), 0, 28 - h))
    left = int(np.clip(round(14 - cx), 0, 28 - w))
    canvas[top : top + h, left : left + w] = g
    return Image.fromarray((canvas * 255).round().astype(np.uint8), "L")


def item_like_fashion_mnist(im: Image.Image) -> Image.Image:
    """Fashion-MNIST's recipe: subject on black, trimmed, longest edge 28, centred."""
    if im.size == (28, 28) and _is_dark_background(im):
        return im.convert("L")
    g = _fit(_crop_to_content(_ink_on_dark(im, thin_strokes=False)), 28)
    canvas = np.zeros((28, 28), dtype=np.float32)
    h, w = g.shape
    canvas[(28 - h) // 2 : (28 - h) // 2 + h, (28 - w) // 2 : (28 - w) // 2 + w] = g
    return Image.fromarray((canvas * 255).round().astype(np.uint8), "L")


def _is_dark_background(im: Image.Image) -> bool:
    return _border_median(_gray(im)) < 0.5


def _gray(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("L"), dtype=np.float32) / 255.0


def _border_median(g: np.ndarray) -> float:
    return float(np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])))


def resize_center_crop(im: Image.Image, resize: int, crop: tuple[int, int]) -> Image.Image:
    """torchvision's ImageNet eval transform: shorter side to ``resize``, then a centre crop."""
    w, h = im.size
    scale = resize / min(w, h)
    im = im.convert("RGB").resize(
        (max(crop[0], round(w * scale)), max(crop[1], round(h * scale))), Image.Resampling.BILINEAR
    )
    w, h = im.size
    left, top = (w - crop[0]) // 2, (h - crop[1]) // 2
    return im.crop((left, top, left + crop[0], top + crop[1]))


Preparer = Callable[[Image.Image, tuple[int, int, int]], Image.Image]
# How a picture becomes each kind of model's input; a model's manifest entry names one ("preprocess").
# A new kind of input is one function and one line here.
PREPARERS: dict[str, Preparer] = {
    "digit": lambda im, _: digit_like_mnist(im),
    "fashion": lambda im, _: item_like_fashion_mnist(im),
    "imagenet": _imagenet,
}
