"""The image store and gallery over HTTP, including the bad uploads a student may send."""

from __future__ import annotations

import io

import pytest
from helpers import encode
from PIL import Image


def upload(client, data: bytes, name: str = "x.png", content_type: str = "image/png"):
    return client.post("/api/v1/images", files={"file": (name, data, content_type)})


def test_upload_returns_id_size_and_url_then_serves_png(client) -> None:
    r = upload(client, encode(Image.new("RGB", (32, 24), (10, 200, 30)), "JPEG"), "photo.jpg", "image/jpeg")
    assert r.status_code == 201, r.text
    info = r.json()
    assert (info["width"], info["height"]) == (32, 24)
    assert info["url"] == f"/api/v1/images/{info['id']}.png"
    png = client.get(info["url"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).format == "PNG"  # re-encoded, never the raw upload


def test_same_image_same_id(client) -> None:
    data = encode(Image.new("RGB", (8, 8), (1, 2, 3)), "PNG")
    assert upload(client, data).json()["id"] == upload(client, data, "other.png").json()["id"]


def test_content_type_and_filename_are_not_trusted(client) -> None:
    png = encode(Image.new("RGB", (8, 8)), "PNG")
    assert upload(client, png, "../../evil.txt", "text/plain").status_code == 201
    r = upload(client, b"<svg onload=alert(1)></svg>", "cat.png", "image/png")
    assert r.status_code == 415 and "SVG" in r.json()["detail"]


@pytest.mark.parametrize(
    "data, status",
    [
        (b"hello, I am a text file", 415),
        (b"<html><body>hi</body></html>", 415),
        (b"II*\x00\x08\x00\x00\x00", 415),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 422),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, 422),
        (b"GIF89a\x01\x00", 422),
    ],
)
def test_bad_uploads_get_a_clear_4xx(client, data: bytes, status: int) -> None:
    r = upload(client, data)
    assert r.status_code == status
    assert len(r.json()["detail"]) > 20


def test_too_many_pixels_is_413(client, settings) -> None:
    side = int(settings.max_image_pixels**0.5) + 10
    r = upload(client, encode(Image.new("1", (side, side)), "PNG"))
    assert r.status_code == 413 and "pixels" in r.json()["detail"]


def test_decompression_bomb_is_413(client) -> None:
    # 20000x20000 of one colour compresses to a few hundred kB.
    r = upload(client, encode(Image.new("1", (20000, 20000)), "PNG"))
    assert r.status_code == 413


def test_oversize_body_is_413_with_content_length(client, settings) -> None:
    r = upload(client, b"\x89PNG\r\n\x1a\n" + b"\x00" * (settings.max_upload_bytes + 100_000))
    assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_oversize_body_is_413_when_chunked(client, settings) -> None:
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()

    def body():  # a generator body is sent chunked, without Content-Length
        yield head
        for _ in range(settings.max_upload_bytes // 65536 + 4):
            yield b"\x00" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        "/api/v1/images", content=body(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert r.status_code == 413


def test_missing_file_field_is_422(client) -> None:
    r = client.post("/api/v1/images", data={"nope": "1"})
    assert r.status_code == 422 and "file" in r.json()["detail"]


def test_unknown_and_malformed_ids_are_404(client) -> None:
    assert client.get("/api/v1/images/" + "0" * 64 + ".png").status_code == 404
    r = client.get("/api/v1/images/not-an-id.png")
    assert r.status_code == 404 and "not an image id" in r.json()["detail"]


def test_samples_list_digits_and_photos_with_attribution(client) -> None:
    samples = client.get("/api/v1/samples").json()
    digits = [s for s in samples if s["kind"] == "digit"]
    photos = {s["id"] for s in samples if s["kind"] == "photo"}
    assert len(digits) >= 100 and {s["label"] for s in digits} == set(range(10))
    assert {"chelsea", "coffee", "astronaut", "rocket", "camera"} <= photos
    assert all(s["attribution"] for s in samples)
    png = client.get(samples[0]["url"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get("/api/v1/samples/nope.png").status_code == 404


def test_uploads_count_against_their_clients_share(client, components) -> None:
    before = components.store.client_bytes("testclient")  # the TestClient's address
    im = Image.new("RGB", (40, 30), (12, 200, 99))
    r = client.post("/api/v1/images", files={"file": ("x.png", encode(im, "PNG"), "image/png")})
    assert r.status_code == 201 and components.store.client_bytes("testclient") > before
    assert components.store.client_max_bytes == components.settings.image_store_client_max_bytes
