"""Pages with JavaScript off (plain forms, full renders) and as htmx fragments."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from helpers import encode
from PIL import Image

HX = {"HX-Request": "true"}


def test_home_introduces_the_tools_and_the_zoo(client) -> None:
    html = client.get("/").text
    assert 'href="/classify"' in html and "mnist-cnn" in html and "htmx.min.js" in html
    assert "99." in html  # the CNN's measured accuracy is shown


def test_htmx_is_served_from_static(client) -> None:
    r = client.get("/static/vendor/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]


def test_classify_page_opens_with_an_example_computed(client) -> None:
    html = client.get("/classify").text
    assert '<form id="pick" method="get" action="/classify"' in html
    assert 'name="image" value="sample:mnist-' in html and '" checked>' in html and "Upload and classify" in html
    assert 'class="result"' in html and 'id="top-label"' in html
    assert '<img class="original pixelated"' in html  # a digit is drawn crisp, like what the model saw


def test_switching_model_picks_a_picture_that_suits_it(client) -> None:
    html = client.get(
        "/classify", params={"model": "imagenet-squeezenet", "shown_model": "mnist-cnn", "image": "sample:mnist-00000"}
    ).text
    if "imagenet-squeezenet (unavailable)" in html:
        return
    assert 'value="sample:chelsea" checked' in html
    kept = client.get("/classify", params={"model": "imagenet-squeezenet", "image": "sample:mnist-00000"}).text
    assert 'value="sample:mnist-00000" checked' in kept  # a permalink is taken as it is


def test_classify_permalink_renders_the_full_result(client) -> None:
    html = client.get("/classify", params={"model": "mnist-cnn", "image": "sample:mnist-00000"}).text
    assert "<html" in html and 'id="top-label">7<' in html and "✓ correct" in html
    assert "Permalink" in html


def test_htmx_request_gets_only_the_lab_fragment(client) -> None:
    html = client.get("/classify", params={"model": "mnist-mlp", "image": "sample:mnist-00001"}, headers=HX).text
    assert "<html" not in html and 'id="top-label">2<' in html
    assert 'hx-swap-oob="true"' in html  # clears an earlier error message


def test_upload_form_redirects_to_the_permalink(client) -> None:
    data = encode(Image.new("RGB", (64, 64), (250, 250, 250)), "PNG")
    r = client.post(
        "/classify", data={"model": "mnist-cnn"}, files={"file": ("d.png", data, "image/png")}, follow_redirects=False
    )
    assert r.status_code == 303
    query = parse_qs(urlparse(r.headers["location"]).query)
    assert query["model"] == ["mnist-cnn"] and len(query["image"][0]) == 64
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "Your upload" in page.text


def test_upload_with_htmx_returns_the_fragment_and_pushes_the_url(client) -> None:
    data = encode(Image.new("RGB", (64, 64), (250, 250, 250)), "PNG")
    r = client.post("/classify", data={"model": "mnist-cnn"}, files={"file": ("d.png", data, "image/png")}, headers=HX)
    assert r.status_code == 200 and r.headers["HX-Push-Url"].startswith("/classify?model=mnist-cnn&image=")
    assert 'class="result"' in r.text


def test_bad_upload_on_the_page_shows_the_message(client) -> None:
    r = client.post("/classify", data={"model": "mnist-cnn"}, files={"file": ("a.svg", b"<svg/>", "image/svg+xml")})
    assert r.status_code == 415 and "<html" in r.text and "SVG" in r.text
    r = client.post(
        "/classify", data={"model": "mnist-cnn"}, files={"file": ("a.svg", b"<svg/>", "image/svg+xml")}, headers=HX
    )
    assert r.status_code == 415 and r.headers["HX-Retarget"] == "#messages" and "<html" not in r.text


def test_unknown_model_on_the_page_is_a_404_page(client) -> None:
    r = client.get("/classify", params={"model": "nope", "image": "sample:mnist-00000"})
    assert r.status_code == 404 and "no model" in r.text and "<html" in r.text


def test_hostile_labels_are_escaped(client) -> None:
    r = client.get("/classify", params={"model": "<script>alert(1)</script>", "image": "sample:x"})
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
