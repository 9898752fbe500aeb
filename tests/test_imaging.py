from __future__ import annotations

import numpy as np
import pytest
from helpers import encode
from PIL import Image

from app.errors import BrokenImage, ImageTooLarge, UnsupportedImage
from app.media import imaging

RED = (200, 30, 30)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_accepted_formats_decode_to_rgb(fmt: str) -> None:
    data = encode(Image.new("RGB", (40, 30), RED), fmt)
    im = imaging.decode_upload(data, max_pixels=10_000)
    assert im.mode == "RGB" and im.size == (40, 30)
    assert np.abs(np.asarray(im, dtype=int)[15, 20] - RED).max() < 40  # lossy formats come close


@pytest.mark.parametrize(
    "payload, hint",
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG"),
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "HTML"),
        (b"%PDF-1.7 ...", "PDF"),
        (b"II*\x00" + b"\x00" * 20, "TIFF"),
        (b"", "empty"),
        (b"just some text", "PNG, JPEG, WebP, GIF or BMP"),
    ],
)
def test_other_files_are_unsupported(payload: bytes, hint: str) -> None:
    with pytest.raises(UnsupportedImage, match=hint):
        imaging.decode_upload(payload, max_pixels=10_000)


def test_truncated_png_is_broken() -> None:
    data = encode(Image.effect_noise((64, 64), 50), "PNG")
    with pytest.raises(BrokenImage):
        imaging.decode_upload(data[: len(data) // 2], max_pixels=10_000)


def test_pixel_cap_is_checked_before_decoding() -> None:
    data = encode(Image.new("L", (300, 300)), "PNG")
    with pytest.raises(ImageTooLarge, match="90,000 pixels"):
        imaging.decode_upload(data, max_pixels=50_000)


def test_exif_orientation_is_applied() -> None:
    im = Image.new("RGB", (60, 20), RED)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    upright = imaging.decode_upload(encode(im, "JPEG", exif=exif.tobytes()), max_pixels=10_000)
    assert upright.size == (20, 60)


def test_gif_first_frame_only() -> None:
    frames = [Image.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 0, 255)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    im = imaging.decode_upload(data, max_pixels=10_000)
    r, g, b = im.getpixel((5, 5))
    assert r > 200 and b < 50


@pytest.mark.parametrize(
    "make",
    [
        lambda: Image.new("RGBA", (8, 8), (0, 0, 0, 0)),  # transparent -> white
        lambda: Image.new("LA", (8, 8), (0, 0)),
        lambda: Image.new("P", (8, 8)),
        lambda: Image.fromarray(np.full((8, 8), 65535, dtype=np.uint16)),  # 16-bit white
        lambda: Image.new("CMYK", (8, 8), (0, 0, 0, 0)),  # CMYK white
    ],
)
def test_modes_become_rgb(make) -> None:
    im = imaging.to_rgb(make())
    assert im.mode == "RGB"


def test_transparency_and_16_bit_map_to_white() -> None:
    assert imaging.to_rgb(Image.new("RGBA", (4, 4), (0, 0, 0, 0))).getpixel((1, 1)) == (255, 255, 255)
    white16 = Image.fromarray(np.full((4, 4), 65535, dtype=np.uint16))
    assert imaging.to_rgb(white16).getpixel((1, 1)) == (255, 255, 255)


def test_digit_preprocessing_matches_mnist_format() -> None:
    # A dark "7"-ish stroke on light paper, big and off-centre.
    im = Image.new("L", (300, 200), 230)
    im.paste(40, (200, 40, 215, 170))
    im.paste(40, (150, 40, 215, 55))
    out = imaging.digit_like_mnist(im.convert("RGB"))
    g = np.asarray(out, dtype=np.float32) / 255
    assert out.size == (28, 28) and out.mode == "L"
    rows, cols = np.nonzero(g > 0.1)
    assert rows.max() - rows.min() + 1 <= 21 and cols.max() - cols.min() + 1 <= 21  # fits 20x20
    cy, cx = (np.indices(g.shape) * g).reshape(2, -1).sum(1) / g.sum()
    assert abs(cy - 14) < 1.0 and abs(cx - 14) < 1.0  # centred by mass
    assert g[0].max() == 0 and g[:, 0].max() == 0  # background is black


def test_mnist_shaped_input_is_kept() -> None:
    arr = np.zeros((28, 28), dtype=np.uint8)
    arr[5:23, 12:16] = 255
    im = Image.fromarray(arr, "L")
    assert np.array_equal(np.asarray(imaging.digit_like_mnist(im.convert("RGB"))), arr)


def test_blank_picture_gives_black_input() -> None:
    out = imaging.digit_like_mnist(Image.new("RGB", (50, 50), (255, 255, 255)))
    assert np.asarray(out).max() == 0


def test_imagenet_resize_and_centre_crop() -> None:
    out = imaging.prepare(Image.new("RGB", (640, 427)), "imagenet", (3, 224, 224))
    assert out.size == (224, 224) and out.mode == "RGB"


def test_tensor_round_trip() -> None:
    im = Image.effect_noise((16, 12), 40).convert("RGB")
    assert np.array_equal(np.asarray(imaging.tensor_to_image(imaging.image_to_tensor(im))), np.asarray(im))
