"""Security headers, the cross-site request guard, and what a page says about an image that is gone."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from helpers import encode
from PIL import Image

from app.config import ROOT
from app.main import create_app
from app.web.security import DOCS_POLICY, PAGE_POLICY, host_allowed, same_host

HX = {"HX-Request": "true"}
EVIL = "https://evil.example"
GONE_ID = "ab" * 32  # well formed, never stored


def directives(policy: str) -> dict[str, set[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: set(values) for name, *values in parts}


# --- headers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url, status",
    [
        ("GET", "/", 200),
        ("GET", "/classify", 200),
        ("GET", "/api/v1/models", 200),
        ("GET", "/static/css/app.css", 200),
        ("GET", "/no-such-page", 404),
        ("POST", "/api/v1/classify", 422),
    ],
)
def test_every_response_carries_the_security_headers(client, method, url, status) -> None:
    r = client.request(method, url, json={} if method == "POST" else None)
    assert r.status_code == status
    assert r.headers["content-security-policy"] == PAGE_POLICY
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"


def test_the_body_limit_answer_has_the_headers_too(client, settings) -> None:
    r = client.post(
        "/api/v1/images",
        content=b"x" * 10,
        headers={"content-length": str(settings.max_upload_bytes * 2), "content-type": "image/png"},
    )
    assert r.status_code == 413 and r.headers["x-frame-options"] == "DENY"


def test_the_page_policy_allows_no_inline_script() -> None:
    d = directives(PAGE_POLICY)
    assert d["script-src"] == {"'self'"}
    assert d["img-src"] == {"'self'", "data:"}
    assert d["object-src"] == {"'none'"} and d["frame-ancestors"] == {"'none'"}
    assert d["base-uri"] == {"'self'"} and d["form-action"] == {"'self'"}


def test_docs_keep_working_under_their_own_policy(client) -> None:
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-security-policy"] == DOCS_POLICY
    assert "https:" not in DOCS_POLICY, "the docs load nothing from another site"
    for page in (r, client.get("/redoc")):
        assert page.status_code == 200
        for src in re.findall(r'<script src="([^"]+)"', page.text) + re.findall(r'<link[^>]*href="([^"]+)"', page.text):
            assert src.startswith("/static/"), src
            assert client.get(src).status_code == 200, src
    schema = client.get("/openapi.json")
    assert schema.status_code == 200 and "/api/v1/classify" in schema.json()["paths"]
    assert schema.headers["content-security-policy"] == PAGE_POLICY


def test_templates_have_no_inline_script_or_event_handlers() -> None:
    for path in (ROOT / "templates").glob("*.html"):
        html = path.read_text()
        assert not re.search(r"\son[a-z]+\s*=", html), f"{path.name}: inline event handler (blocked by the CSP)"
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), f"{path.name}: inline <script>"
        assert not re.search(r"hx-on|hx-vars|hx-vals=['\"]\s*(js|javascript):", html), f"{path.name}: htmx would eval"


def test_htmx_is_told_not_to_inject_its_indicator_style(client) -> None:
    html = client.get("/").text
    assert '"includeIndicatorStyles": false' in html
    assert '<script src="/static/js/app.js" defer></script>' in html


# --- cross-site requests ---------------------------------------------------------------------------

BODY = {"model": "mnist-cnn", "image": "sample:mnist-00000"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "http://testserver:8080"},  # same host, another port: another origin
        {"Origin": "null"},  # a sandboxed frame or a file:// page
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_api_posts_are_refused_with_json(client, headers) -> None:
    r = client.post("/api/v1/classify", json=BODY, headers=headers)
    assert r.status_code == 403 and r.headers["content-type"] == "application/json"
    assert "another website" in r.json()["detail"]


def test_cross_site_deletes_are_refused_too(client) -> None:
    assert client.delete("/api/v1/jobs/nope", headers={"Origin": EVIL}).status_code == 403
    assert client.delete("/api/v1/jobs/nope").status_code == 404  # the route itself answers without Origin


def test_cross_site_form_post_gets_an_html_error_page(client) -> None:
    data = encode(Image.new("RGB", (16, 16), (250, 250, 250)), "PNG")
    r = client.post(
        "/classify",
        data={"model": "mnist-cnn"},
        files={"file": ("d.png", data, "image/png")},
        headers={"Origin": EVIL},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "<html" in r.text and "another website" in r.text
    assert r.headers["content-security-policy"] == PAGE_POLICY


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl and scripts send no Origin
        {"Origin": "http://testserver"},
        {"Origin": "http://TestServer:80"},  # the scheme's default port, any case
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar, a bookmark
    ],
)
def test_same_origin_and_originless_posts_pass(client, headers) -> None:
    r = client.post("/api/v1/classify", json=BODY, headers=headers)
    assert r.status_code == 200, r.text


def test_reads_from_other_sites_are_not_refused(client) -> None:
    assert client.get("/api/v1/models", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}).status_code == 200


@pytest.mark.parametrize(
    "origin, host, same",
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("https://advlab.example", "advlab.example", True),  # behind a TLS proxy: no port in Host
        ("https://advlab.example", "advlab.example:443", True),
        ("http://advlab.example", "advlab.example:443", False),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8001", False),
        ("http://advlab.example.evil.example", "advlab.example", False),
        ("http://x:notaport", "x", False),
        ("", "advlab.example", False),
    ],
)
def test_same_host(origin, host, same) -> None:
    assert same_host(origin, host) is same


# --- an image that is no longer stored -------------------------------------------------------------


@pytest.mark.parametrize(
    "page, upload_at",
    [
        ("/classify", "/classify?model=mnist-cnn"),
        ("/attack", "/attack?model=mnist-cnn"),
        ("/gradients", "/gradients?model=mnist-cnn"),
    ],
)
def test_a_permalink_to_a_lost_image_is_a_404_page_with_a_re_upload_link(client, page, upload_at) -> None:
    r = client.get(page, params={"model": "mnist-cnn", "image": GONE_ID})
    assert r.status_code == 404 and "<html" in r.text
    assert "upload it again" in r.text and f'href="{upload_at.replace("&", "&amp;")}"' in r.text


def test_htmx_gets_the_re_upload_link_in_the_message(client) -> None:
    r = client.get("/classify", params={"model": "mnist-cnn", "image": GONE_ID}, headers=HX)
    assert r.status_code == 404 and "<html" not in r.text and 'class="upload-again"' in r.text


def test_the_api_says_upload_it_again_as_json(client) -> None:
    r = client.post("/api/v1/classify", json={"model": "mnist-cnn", "image": GONE_ID})
    assert r.status_code == 404 and "Please upload it again" in r.json()["detail"]


@pytest.fixture(scope="module")
def tiny_store_client(settings, tmp_path_factory):
    """An app whose image store holds about one image, so that the next upload evicts it."""
    small = settings.model_copy(
        update={"image_store_dir": tmp_path_factory.mktemp("tiny-store"), "image_store_max_bytes": 2000}
    )
    with TestClient(create_app(small)) as c:
        yield c


def upload(client, colour) -> str:
    data = encode(Image.effect_noise((24, 24), 60).convert("RGB").point(lambda v: (v + colour) % 256), "PNG")
    r = client.post("/api/v1/images", files={"file": ("x.png", data, "image/png")})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_an_evicted_upload_gives_a_404_page_not_a_500(tiny_store_client) -> None:
    first = upload(tiny_store_client, 0)
    assert tiny_store_client.get("/classify", params={"model": "mnist-cnn", "image": first}).status_code == 200
    upload(tiny_store_client, 100)  # pushes the first one out
    r = tiny_store_client.get("/classify", params={"model": "mnist-cnn", "image": first})
    assert r.status_code == 404 and "upload it again" in r.text and 'class="upload-again"' in r.text


def test_a_file_deleted_behind_the_stores_back_is_a_404(tiny_store_client) -> None:
    image_id = upload(tiny_store_client, 7)
    (tiny_store_client.app.state.components.store.root / f"{image_id}.png").unlink()
    r = tiny_store_client.get(f"/api/v1/images/{image_id}.png")
    assert r.status_code == 404 and "upload it again" in r.json()["detail"]
    r = tiny_store_client.get("/attack", params={"image": image_id, "run": "1"})
    assert r.status_code == 404 and 'class="upload-again"' in r.text


def test_an_evicted_upload_is_gone_for_attacks_too_though_its_input_was_cached(tiny_store_client) -> None:
    first = upload(tiny_store_client, 30)
    body = {"model": "mnist-cnn", "image": first, "params": {"eps": 0.1}}
    assert tiny_store_client.post("/api/v1/attacks/fgsm", json=body).status_code == 200  # now cached
    upload(tiny_store_client, 130)  # pushes the first one out
    r = tiny_store_client.post("/api/v1/attacks/fgsm", json=body)
    assert r.status_code == 404 and "upload it again" in r.json()["detail"]


def test_an_unexpected_error_is_a_500_that_keeps_the_security_headers(settings) -> None:
    app = create_app(settings)

    @app.get("/api/v1/fails")
    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        api, page = c.get("/api/v1/fails"), c.get("/fails")
    assert api.status_code == 500 and api.json()["detail"].startswith("Something went wrong inside AdvLab")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    for r in (api, page):
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff" and "a bug" not in r.text


def test_a_foreign_host_header_is_refused_before_anything_runs(client) -> None:
    r = client.get("/api/v1/models", headers={"host": "rebound.example:8000"})
    assert r.status_code == 400 and "ADVLAB_TRUSTED_HOSTS" in r.json()["detail"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    r = client.get("/api/v1/images/", headers={"host": "rebound.example"}, follow_redirects=False)
    assert r.status_code == 400 and "location" not in r.headers
    page = client.post(
        "/classify",
        headers={"host": "rebound.example", "origin": "http://rebound.example"},
        data={"model": "mnist-cnn"},
    )
    assert page.status_code == 400 and "<html" in page.text
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.get("/healthz", headers={"host": host}).status_code == 200, host


def test_trusted_host_names_and_patterns() -> None:
    assert host_allowed("advlab.example.org:443", ["*.example.org"])
    assert not host_allowed("example.org.evil.net", ["*.example.org"])
    assert host_allowed("anything:1", ["*"]) and not host_allowed("", ["localhost"])
    assert host_allowed("[::1]:8000", ["[::1]"]) and not host_allowed("[::1", ["[::1]"])
