"""Malformed uploads and parameters over HTTP: each gets its own 4xx with a message, never a 5xx.

tests/test_api_images.py already covers plain text, HTML, TIFF and header-only files, the pixel
cap, oversize bodies on the JSON API, missing fields and bad ids; tests/test_imaging.py the
decoder itself. This file adds crafted files, odd-but-valid images, hostile names, the page
routes, and bad parameters for every kind of endpoint.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from helpers import encode
from PIL import Image

DIGIT = "sample:mnist-00003"


def upload(client, data: bytes, name: str = "x.png", content_type: str = "image/png"):
    return client.post("/api/v1/images", files={"file": (name, data, content_type)})


def stored(client, response) -> Image.Image:
    """The image the store kept for a 201 answer, decoded from the PNG it serves."""
    assert response.status_code == 201, response.text
    png = client.get(response.json()["url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(png.content))


def assert_refused(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and len(detail) > 20
    for word in words:
        assert word.lower() in detail.lower(), detail


# --- crafted files ---------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, pixels: bytes | None = b"\x00" * 64) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` RGB, with a few bytes of (too little) data."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    data = png_chunk(b"IDAT", zlib.compress(pixels)) if pixels is not None else b""
    return b"\x89PNG\r\n\x1a\n" + header + data + png_chunk(b"IEND", b"")


def noise(size=(64, 64), mode="RGB") -> Image.Image:
    return Image.effect_noise(size, 60).convert(mode)


def zip_file() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("digit.png", encode(Image.new("RGB", (8, 8)), "PNG"))
    return buf.getvalue()


def with_bad_crc(png: bytes) -> bytes:
    """Flip a byte of the IHDR checksum (bytes 29-32)."""
    return png[:29] + bytes([png[29] ^ 0xFF]) + png[30:]


@pytest.mark.parametrize(
    "data, status, words",
    [
        pytest.param(png_declaring(100_000, 100_000), 413, ["pixels"], id="bomb: 100 bytes declaring 10^10 pixels"),
        pytest.param(png_declaring(3000, 1000), 422, ["damaged"], id="PNG declaring more pixels than it holds"),
        pytest.param(png_declaring(0, 10), 422, ["damaged"], id="PNG declaring zero width"),
        pytest.param(png_declaring(10, 10, pixels=None), 422, ["damaged"], id="PNG without image data"),
        pytest.param(with_bad_crc(encode(noise(), "PNG")), 422, ["PNG"], id="PNG with a bad checksum"),
        pytest.param(encode(noise((128, 128)), "JPEG")[:1500], 422, ["JPEG"], id="JPEG cut off mid-scan"),
        pytest.param(b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 20, 422, ["WEBP"], id="WebP header then garbage"),
        pytest.param(
            b"BM"
            + struct.pack("<IHHI", 0, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, 90_000, 90_000, 1, 24, 0, 0, 0, 0, 0, 0),
            413,
            ["pixels"],
            id="BMP header declaring 90000x90000",
        ),
        pytest.param(b"GIF89a<script>alert(1)</script>", 422, ["GIF"], id="HTML behind a GIF signature"),
        pytest.param(zip_file(), 415, ["ZIP"], id="a ZIP"),
        pytest.param(b"", 415, ["empty"], id="empty file"),
        pytest.param(
            b"<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            415,
            ["SVG"],
            id="SVG with an XML prolog named .png",
        ),
        pytest.param(
            b"\n  <!DOCTYPE html><html><img src=x onerror=alert(1)></html>",
            415,
            ["HTML"],
            id="HTML with leading whitespace as image/png",
        ),
    ],
)
def test_crafted_files_are_refused_with_their_own_status(client, data, status, words) -> None:
    assert_refused(upload(client, data), status, *words)


# --- unusual but valid images ----------------------------------------------------------------------


def test_an_animated_gif_keeps_its_first_frame(client) -> None:
    frames = [Image.new("RGB", (12, 10), c) for c in [(250, 0, 0), (0, 0, 250), (0, 250, 0)]]
    im = stored(client, upload(client, encode(frames[0], "GIF", save_all=True, append_images=frames[1:])))
    r, _, b = im.convert("RGB").getpixel((6, 5))
    assert im.size == (12, 10) and r > 200 and b < 50


def test_a_cmyk_jpeg_becomes_rgb_with_its_colours(client) -> None:
    cyan = Image.new("CMYK", (16, 16), (255, 0, 0, 0))
    im = stored(client, upload(client, encode(cyan, "JPEG", quality=95), "c.jpg", "image/jpeg"))
    r, g, b = im.convert("RGB").getpixel((8, 8))
    assert im.mode == "RGB" and r < 40 and g > 200 and b > 200


def test_a_16_bit_png_is_scaled_to_8_bits(client) -> None:
    grey = Image.fromarray(np.full((6, 6), 32768, dtype=np.uint16))
    im = stored(client, upload(client, encode(grey, "PNG")))
    assert abs(im.convert("L").getpixel((3, 3)) - 128) <= 1  # not clipped to white


def test_a_palette_png_with_transparency_is_flattened_on_white(client) -> None:
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.putpixel((1, 1), 1)
    im = stored(client, upload(client, encode(pal, "PNG", transparency=0))).convert("RGB")
    assert im.getpixel((5, 5)) == (255, 255, 255) and im.getpixel((1, 1)) == (255, 0, 0)


def test_an_rgba_png_is_flattened_on_white(client) -> None:
    rgba = Image.new("RGBA", (8, 8), (0, 0, 255, 255))
    rgba.putpixel((2, 2), (0, 0, 255, 0))
    im = stored(client, upload(client, encode(rgba, "PNG"))).convert("RGB")
    assert im.getpixel((5, 5)) == (0, 0, 255) and im.getpixel((2, 2)) == (255, 255, 255)


def test_an_exif_rotated_jpeg_is_stored_upright(client) -> None:
    sideways = Image.new("RGB", (60, 20), (0, 0, 230))
    sideways.paste((230, 0, 0), (0, 0, 30, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display": the left edge ends up on top
    r = upload(client, encode(sideways, "JPEG", exif=exif.tobytes(), quality=95), "phone.jpg", "image/jpeg")
    assert (r.json()["width"], r.json()["height"]) == (20, 60)
    im = stored(client, r).convert("RGB")
    assert im.size == (20, 60)
    assert im.getpixel((10, 10))[0] > 200 and im.getpixel((10, 50))[2] > 200  # red on top, blue below


# --- names and declared types are not trusted ------------------------------------------------------

PNG = encode(Image.new("RGB", (5, 5), (9, 9, 9)), "PNG")


@pytest.mark.parametrize(
    "name",
    [
        "../../../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "a" * 1000 + ".png",
        "猫 😺 ü.png",
        "a\x00b.png",
        "<script>alert(1)</script>.png",
        ".png",
    ],
)
def test_hostile_filenames_are_ignored(client, components, name) -> None:
    before = {p.name for p in components.store.root.iterdir()}
    r = upload(client, PNG, name)
    assert r.status_code == 201, r.text
    created = {p.name for p in components.store.root.iterdir()} - before
    assert created <= {f"{r.json()['id']}.png"}  # only ever the content-addressed file
    assert not any(part in r.text for part in ("passwd", "script", "win.ini"))


def test_a_file_name_too_long_for_the_multipart_parser_is_a_400(client) -> None:
    assert_refused(upload(client, PNG, "a" * 5000 + ".png"), 400, "file name")


def test_a_form_field_without_a_file_name_is_not_a_file(client) -> None:
    assert_refused(upload(client, PNG, ""), 422, "must be a file")


@pytest.mark.parametrize(
    "name, data, content_type, status",
    [
        ("x.html", PNG, "text/html", 201),  # PNG bytes with an HTML type: a PNG
        ("x.png", b"<html><script>alert(1)</script></html>", "image/png", 415),  # and the reverse
        ("x.gif", PNG, "image/gif", 201),
        ("x.png", PNG, "application/octet-stream", 201),
    ],
)
def test_the_declared_content_type_is_not_trusted(client, name, data, content_type, status) -> None:
    r = upload(client, data, name, content_type)
    assert r.status_code == status, r.text
    if status == 201:
        assert stored(client, r).format == "PNG"


# --- the page upload forms -------------------------------------------------------------------------


def test_an_oversize_form_post_gets_an_error_page(client, settings) -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (settings.max_upload_bytes + 100_000)
    r = client.post("/classify", data={"model": "mnist-cnn"}, files={"file": ("big.png", big, "image/png")})
    assert r.status_code == 413 and "<html" in r.text and "limit" in r.text


def test_an_oversize_chunked_form_post_gets_an_error_page(client, settings) -> None:
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()

    def body():  # a generator is sent chunked: no Content-Length to refuse up front
        yield head
        for _ in range(settings.max_upload_bytes // 65536 + 4):
            yield b"\x00" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post("/gradients", content=body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and "<html" in r.text


def test_a_hostile_upload_name_never_reaches_the_page(client) -> None:
    data = encode(Image.new("RGB", (40, 40), (250, 250, 250)), "PNG")
    r = client.post(
        "/attack",
        data={"model": "mnist-cnn", "attack": "fgsm"},
        follow_redirects=True,
        files={"file": ("<script>alert(1)</script>.png", data, "image/png")},
    )
    assert r.status_code == 200 and "alert(1)" not in r.text


# --- bad parameters --------------------------------------------------------------------------------


def classify(**fields):
    return ("/api/v1/classify", {"model": "mnist-cnn", "image": DIGIT, **fields})


def attack(name="fgsm", **fields):
    return (f"/api/v1/attacks/{name}", {"model": "mnist-cnn", "image": DIGIT, **fields})


@pytest.mark.parametrize(
    "url, body, status, words",
    [
        pytest.param(*classify(model="no-such-model"), 404, ["no model"], id="classify: unknown model"),
        pytest.param(*classify(top_k=0), 422, ["top_k"], id="classify: top_k 0"),
        pytest.param(*classify(top_k="five"), 422, ["top_k", "integer"], id="classify: top_k a word"),
        pytest.param(*classify(top_k=1e30), 422, ["top_k"], id="classify: top_k 1e30"),
        pytest.param(*classify(model=["mnist-cnn"]), 422, ["model", "string"], id="classify: model a list"),
        pytest.param(*classify(image=""), 422, ["choose an image"], id="classify: no image"),
        pytest.param(
            *classify(image="sample:../../etc/passwd"), 404, ["no gallery sample"], id="classify: sample path"
        ),
        pytest.param(*attack("no-such-attack"), 404, ["no attack"], id="attack: unknown attack"),
        pytest.param(*attack("pgd", params={"steps": -1}), 422, ["steps"], id="attack: negative steps"),
        pytest.param(*attack("pgd", params={"steps": 10**9}), 422, ["steps", "1000"], id="attack: a billion steps"),
        pytest.param(*attack(params={"eps": "NaN"}), 422, ["eps"], id="attack: eps NaN"),
        pytest.param(*attack(params={"eps": "-Infinity"}), 422, ["eps"], id="attack: eps -inf"),
        pytest.param(*attack(params={"eps": 1e308}), 422, ["eps"], id="attack: eps 1e308"),
        pytest.param(*attack(params={"epsilon": 0.1}), 422, ["epsilon", "not permitted"], id="attack: unknown param"),
        pytest.param(*attack(params="eps=0.1"), 422, ["params"], id="attack: params a string"),
        pytest.param(*attack(seed="abc"), 422, ["seed"], id="attack: seed a word"),
        pytest.param(*attack(seed=-1), 422, ["seed"], id="attack: negative seed"),
        pytest.param(*attack(target=99), 422, ["between 0 and 9"], id="attack: target out of range"),
        pytest.param(*attack(target=1.5), 422, ["target"], id="attack: fractional target"),
        pytest.param(*attack("fooling-noise"), 422, ["needs a target"], id="attack: targeted-only without target"),
        pytest.param(
            "/api/v1/gradients", {"model": "mnist-cnn", "image": DIGIT, "k": 10**6}, 422, ["k"], id="gradients: huge k"
        ),
        pytest.param(
            "/api/v1/gradients",
            {"model": "mnist-cnn", "image": DIGIT, "target_class": 10},
            422,
            ["target_class"],
            id="gradients: class out of range",
        ),
        pytest.param("/api/v1/linear-toy", {"w": [1, 2], "x": [1]}, 422, ["same number"], id="linear: lengths differ"),
        pytest.param("/api/v1/linear-toy", {"w": [1], "x": [1], "eps": "NaN"}, 422, ["finite"], id="linear: eps NaN"),
        pytest.param(
            "/api/v1/linear-toy", {"w": [1] * 10_000, "x": [1] * 10_000}, 422, ["at most"], id="linear: 10,000 weights"
        ),
        pytest.param(
            "/api/v1/generators/dcgan-mnist/samples",
            {"count": 10**6},
            422,
            ["count"],
            id="generator: a million samples",
        ),
        pytest.param(
            "/api/v1/generators/dcgan-mnist/samples", {"seed": "x"}, 422, ["seed"], id="generator: seed a word"
        ),
        pytest.param("/api/v1/generators/no-such-gan/samples", {}, 404, ["no generator"], id="generator: unknown"),
        pytest.param("/api/v1/experiments/no-such-experiment", {}, 404, ["no experiment"], id="experiment: unknown"),
        pytest.param(
            "/api/v1/experiments/robustness",
            {"bogus": 1},
            422,
            ["bogus", "not permitted"],
            id="experiment: unknown field",
        ),
        pytest.param("/api/v1/experiments/robustness", [1, 2], 422, ["dictionary"], id="experiment: body a list"),
        pytest.param("/api/v1/gan-lab/sessions", {"lr_g": "NaN"}, 422, ["lr_g"], id="gan lab: learning rate NaN"),
        pytest.param("/api/v1/gan-lab/compare", {"k": 11}, 422, ["k"], id="gan lab compare: k too large"),
        pytest.param(
            "/api/v1/gan-lab/sessions",
            {"k": 0, "unknown": 1},
            422,
            ["k", "unknown"],
            id="gan lab: k 0 and an unknown field",
        ),
    ],
)
def test_bad_parameters_get_a_4xx_that_names_the_problem(client, url, body, status, words) -> None:
    assert_refused(client.post(url, json=body), status, *words)


def test_a_body_that_is_not_json_is_a_400_about_json(client) -> None:
    r = client.post("/api/v1/classify", content=b"{model: mnist-cnn", headers={"content-type": "application/json"})
    assert_refused(r, 400, "not valid JSON", "character 1")
    assert "multipart" not in r.json()["detail"]
    r = client.post(
        "/api/v1/attacks/fgsm",
        content=b'{"model": "mnist-cnn", "image": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert_refused(r, 400, "JSON", "UTF-8")


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/attacks/fgsm", {"model": "mnist-cnn", "image": DIGIT, "eps": 0.3}, "eps"),  # belongs in params
        ("/api/v1/attacks/fgsm/sweep", {"model": "mnist-cnn", "image": DIGIT, "epsilon": [0.1]}, "epsilon"),
        ("/api/v1/generators/dcgan-mnist/samples", {"n": 64}, "n"),
        ("/api/v1/classify", {"model": "mnist-cnn", "image": DIGIT, "topk": 3}, "topk"),
        ("/api/v1/gradients", {"model": "mnist-cnn", "image": DIGIT, "class": 3}, "class"),
        ("/api/v1/linear-toy", {"epsilon": 0.2}, "epsilon"),
    ],
)
def test_an_unknown_key_is_refused_not_ignored(client, path, body, field) -> None:
    assert_refused(client.post(path, json=body), 422, field, "not permitted")


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/classify", {"model": "mnist-cnn", "image": DIGIT, "top_k": True}),
        ("/api/v1/attacks/fgsm", {"model": "mnist-cnn", "image": DIGIT, "seed": False}),
        ("/api/v1/attacks/fgsm", {"model": "mnist-cnn", "image": DIGIT, "target": True}),
        ("/api/v1/generators/dcgan-mnist/samples", {"seed": True}),
        ("/api/v1/attacks/fgsm", {"model": "mnist-cnn", "image": DIGIT, "params": {"eps": True}}),  # not ε = 1
        ("/api/v1/attacks/pgd", {"model": "mnist-cnn", "image": DIGIT, "params": {"steps": True}}),
    ],
)
def test_true_and_false_are_not_numbers(client, path, body) -> None:
    assert_refused(client.post(path, json=body), 422, "true or false is not a number")


@pytest.mark.parametrize(
    "url, status",
    [
        ("/attack?seed=-1", 422),  # was a 500: the page built its request body without validation
        ("/attack?seed=abc", 422),
        ("/gradients?model=mnist-cnn&image=sample:mnist-00003&k=abc", 422),
        ("/linear?eps=nan", 422),
        ("/gan?steps=-5", 422),
        ("/defenses?eps=nan", 422),
        ("/experiments/robustness?n=-3", 422),
    ],
)
def test_bad_page_parameters_get_an_error_page(client, url, status) -> None:
    r = client.get(url)
    assert r.status_code == status and "<html" in r.text and 'class="error"' in r.text


# --- hostile strings are escaped in pages ----------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "url",
    [
        f"/attack?model=mnist-cnn&image={DIGIT}&target={SCRIPT}&run=1",
        f"/attack?attack={SCRIPT}",
        f"/gradients?model=mnist-cnn&image={DIGIT}&target={SCRIPT}",
        f"/linear?w={SCRIPT}",
        f"/gan?model={SCRIPT}",
        f"/experiments/{SCRIPT}",
        f"/classify?model=mnist-cnn&image={SCRIPT}",
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_hostile_strings_are_escaped_in_pages(client, url, htmx) -> None:
    r = client.get(url, headers={"HX-Request": "true"} if htmx else {})
    assert r.status_code < 500
    assert SCRIPT not in r.text and "<script>alert" not in r.text


# --- proportions: memory grows with the ratio of the sides -----------------------------------------


@pytest.mark.parametrize("size", [(3_000_000, 1), (4000, 3), (3, 8000)])
def test_a_strip_too_thin_to_scale_is_refused(client, size) -> None:
    strip = encode(Image.new("L", size, 128), "PNG", optimize=True)  # a few KB, under the pixel cap
    r = upload(client, strip)
    assert_refused(r, 422, f"{size[0]}×{size[1]}", "crop")
    page = client.post(
        "/classify", data={"model": "imagenet-squeezenet"}, files={"file": ("s.png", strip, "image/png")}
    )
    assert page.status_code == 422 and "crop it closer to a square" in page.text


def test_proportions_up_to_twenty_to_one_are_classified(client) -> None:
    r = upload(client, encode(noise((400, 20)), "PNG"))
    assert r.status_code == 201
    for model in ("mnist-cnn", "imagenet-squeezenet"):
        answer = client.post("/api/v1/classify", json={"model": model, "image": r.json()["id"]})
        assert answer.status_code in (200, 503), answer.text  # 503 only where the ImageNet weights are missing
