"""Lecture mode with JavaScript off: the presentation toggle, the demo sequence, saved preset lists,
the explanations beside each tool, and the GAN lab's start form filled in from a link."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from app.attacks import ATTACKS
from app.labs import EXPERIMENTS
from app.web import lecture
from app.web.presets import PRESETS


@pytest.fixture
def web(client):
    """The shared client with no lecture cookies before or after (they would leak into other tests)."""
    client.cookies.clear()
    yield client
    client.cookies.clear()


def body_class(html: str) -> str:
    return re.search(r"<body(?: class=\"([^\"]*)\")?>", html).group(1) or ""


def saved_list(location: str) -> list[dict]:
    """The list inside a /presets?mine=... address."""
    token = parse_qs(urlsplit(location).query)["mine"][0]
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


# --- the presets themselves ---------------------------------------------------------------------


def test_presets_tell_the_story_in_order_with_same_site_permalinks() -> None:
    assert [p.slug for p in PRESETS][:3] == ["linear-toy", "fgsm-slider", "pgd-7-to-3"]
    assert PRESETS[-1].slug == "latent-arithmetic" and len({p.slug for p in PRESETS}) == len(PRESETS)
    for p in PRESETS:
        assert lecture.same_site_path(p.url) == p.url
        assert p.title and len(p.summary) < 200


def test_presets_page_links_every_demo_and_the_shortcuts(web) -> None:
    html = web.get("/presets").text
    for k, p in enumerate(PRESETS, start=1):
        assert f'href="/presets/{k}"' in html and p.title.replace("&", "&amp;") in html
    assert 'id="shortcuts"' in html and "<kbd>p</kbd>" in html and 'action="/presets/add"' in html
    assert 'href="/presets"' in web.get("/").text  # linked from the home page and the nav


# --- presentation view -----------------------------------------------------------------------------


def test_presentation_toggle_sets_a_cookie_and_comes_back(web) -> None:
    r = web.get("/present", params={"on": "1", "next": "/attack?attack=pgd"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/attack?attack=pgd"
    assert "present=1" in r.headers["set-cookie"] and "samesite=lax" in r.headers["set-cookie"].lower()
    assert body_class(web.get("/attack?attack=pgd").text) == "present"

    web.get("/present", params={"controls": "hide", "next": "/linear"})
    html = web.get("/linear").text
    assert body_class(html) == "present bare"
    assert 'href="/present?controls=show&amp;next=/linear"' in html  # the way back, without JavaScript

    r = web.get("/present", params={"on": "0", "next": "/linear"}, follow_redirects=False)
    assert r.headers["location"] == "/linear"
    assert body_class(web.get("/linear").text) == ""  # leaving also showed the controls again
    assert "bare" not in web.cookies and "present" not in web.cookies


def test_hidden_controls_alone_do_not_change_the_page(web) -> None:
    web.cookies.set("bare", "1")
    assert body_class(web.get("/linear").text) == ""


def test_every_page_links_the_toggle_back_to_itself(web) -> None:
    html = web.get("/gradients", params={"model": "mnist-cnn", "k": "4"}).text
    assert 'href="/present?on=1&amp;next=/gradients%3Fmodel%3Dmnist-cnn%26k%3D4"' in html


OFF_SITE = [
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "evil.example",
    "",
    "/" + "a" * 600,
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_toggle_never_redirects_off_site(web, target) -> None:
    r = web.get("/present", params={"on": "1", "next": target}, follow_redirects=False)
    assert r.status_code == 422 and "location" not in r.headers and "next" in r.text
    assert "present" not in web.cookies


# --- the demo sequence --------------------------------------------------------------------------


def test_opening_a_demo_remembers_its_place_in_the_sequence(web) -> None:
    r = web.get("/presets/3", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == PRESETS[2].url
    html = web.get("/linear").text  # any page shows where you are
    assert "Demo 3 of 12" in html and PRESETS[2].title in html
    assert 'rel="prev" href="/presets/2"' in html and 'rel="next" href="/presets/4"' in html

    web.get("/presets/1")
    html = web.get("/linear").text
    assert 'rel="prev"' not in html and 'rel="next" href="/presets/2"' in html
    web.get(f"/presets/{len(PRESETS)}")
    assert "Last demo" in web.get("/linear").text

    r = web.get("/presets/leave", params={"next": "/linear"}, follow_redirects=False)
    assert r.headers["location"] == "/linear" and 'id="sequence"' not in web.get("/linear").text


@pytest.mark.parametrize("k, status", [("0", 422), ("13", 404), ("seven", 422)])
def test_a_demo_that_does_not_exist_is_a_clear_error(web, k, status) -> None:
    r = web.get(f"/presets/{k}", follow_redirects=False)
    assert r.status_code == status and "location" not in r.headers


# --- saved presets -------------------------------------------------------------------------------


def test_a_saved_list_round_trips_through_its_link(web) -> None:
    r = web.get(
        "/presets/add",
        params={"title": "FGSM on a 9 <b>live</b>", "url": "/attack?attack=fgsm&eps=0.2"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/presets?mine=")
    first = {"title": "FGSM on a 9 <b>live</b>", "url": "/attack?attack=fgsm&eps=0.2"}
    assert saved_list(r.headers["location"]) == [first]

    token = parse_qs(urlsplit(r.headers["location"]).query)["mine"][0]
    r = web.get(
        "/presets/add",
        params={"mine": token, "title": "Linear toy, ε = 0.5", "url": "/linear?eps=0.5"},
        follow_redirects=False,
    )
    two = r.headers["location"]
    assert [i["title"] for i in saved_list(two)] == ["FGSM on a 9 <b>live</b>", "Linear toy, ε = 0.5"]

    html = web.get(two).text
    assert "FGSM on a 9 &lt;b&gt;live&lt;/b&gt;" in html and "<b>live</b>" not in html  # titles are escaped
    token = parse_qs(urlsplit(two).query)["mine"][0]
    assert f'href="/presets/mine/2?mine={token}"' in html and f'value="http://testserver/presets?mine={token}"' in html

    r = web.get("/presets/mine/2", params={"mine": token}, follow_redirects=False)
    assert r.headers["location"] == "/linear?eps=0.5"
    html = web.get("/linear?eps=0.5").text
    assert "Demo 2 of 2 (your list)" in html and 'rel="prev" href="/presets/mine/1"' in html

    r = web.get("/presets/remove", params={"mine": token, "index": "1"}, follow_redirects=False)
    assert [i["title"] for i in saved_list(r.headers["location"])] == ["Linear toy, ε = 0.5"]


def test_save_this_page_fills_in_the_form_and_adds_to_the_remembered_list(web) -> None:
    html = web.get("/linear", params={"eps": "0.3"}).text
    link = re.search(r'data-here="url" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {"url": ["/linear?eps=0.3"], "title": ["Linear toy"]}
    form = web.get(link).text
    assert 'value="/linear?eps=0.3"' in form and 'value="Linear toy"' in form

    added = web.get("/presets/add", params={"title": "One", "url": "/linear"}, follow_redirects=False)
    web.get(added.headers["location"])
    form = web.get(link).text  # the list opened last is remembered, so the form adds to it
    token = re.search(r'name="mine" value="([^"]*)"', form).group(1)
    assert [i.title for i in lecture.decode(token)] == ["One"]


def token_of(items: list[dict]) -> str:
    return base64.urlsafe_b64encode(json.dumps(items).encode()).decode().rstrip("=")


BAD_ADDS = [
    ({"title": "Elsewhere", "url": "https://evil.example/"}, "path on this site"),
    ({"title": "Elsewhere", "url": "//evil.example/x"}, "path on this site"),
    ({"title": "No slash", "url": "attack?attack=fgsm"}, "path on this site"),
    ({"title": "", "url": "/linear"}, "Give the preset a title"),
    ({"title": "x" * 81, "url": "/linear"}, "longer than 80"),
    ({"title": "Long", "url": "/linear?w=" + "1," * 300}, "longer than 500"),
    ({"mine": "not a list!", "title": "A", "url": "/linear"}, "cannot be read"),
    ({"mine": token_of({"title": "A"}), "title": "B", "url": "/linear"}, "at most 12"),
    ({"mine": token_of([{"title": "A", "url": "/", "x": 1}]), "title": "B", "url": "/linear"}, "nothing else"),
    (
        {"mine": token_of([{"title": "A", "url": "http://evil.example"}]), "title": "B", "url": "/linear"},
        "path on this site",
    ),
    ({"mine": token_of([{"title": "A", "url": "/"}] * 12), "title": "B", "url": "/linear"}, "at most 12"),
]


@pytest.mark.parametrize("params, message", BAD_ADDS)
def test_bad_saved_presets_are_refused_with_a_reason(web, params, message) -> None:
    r = web.get("/presets/add", params=params, follow_redirects=False)
    assert r.status_code == 422 and message in r.text and "location" not in r.headers


def test_a_broken_or_oversized_list_link_is_a_clear_error(web) -> None:
    assert "cannot be read" in web.get("/presets", params={"mine": "eyJ0aXRsZSI6"}).text
    r = web.get("/presets", params={"mine": "A" * (lecture.MAX_TOKEN + 1)})
    assert r.status_code == 422
    r = web.get("/presets/remove", params={"mine": token_of([{"title": "A", "url": "/"}]), "index": "2"})
    assert r.status_code == 404 and "no number 2" in r.text


def test_only_our_own_encoding_reaches_links_and_cookies(web) -> None:
    token = lecture.encode([lecture.Saved("Ünïcode ✓", "/linear")])
    assert lecture.decode(token) == [lecture.Saved("Ünïcode ✓", "/linear")]
    web.get("/presets", params={"mine": token})
    assert web.cookies["mine"] == token
    for tampered in (token + ";", token + "=", token[:-3] + "%0d"):
        assert web.get("/presets", params={"mine": tampered}).status_code == 422


def test_a_long_list_that_would_not_fit_in_a_cookie_is_refused() -> None:
    items = [lecture.Saved("t" * 80, "/linear?w=" + "1," * 240) for _ in range(12)]
    with pytest.raises(lecture.BadRequest, match="too long to keep in a link"):
        lecture.encode(items)


# --- explanations and the GAN lab's link -------------------------------------------------------

TOOL_PAGES = (
    [f"/attack?attack={name}" for name in ATTACKS]
    + ["/gradients", "/linear", "/gan", "/gan/lab", "/cyclegan"]
    + [f"/experiments/{kind}" for kind in EXPERIMENTS]
)


@pytest.mark.parametrize("path", TOOL_PAGES)
def test_each_tool_explains_itself_with_mathml(web, path) -> None:
    html = web.get(path).text
    aside = html[html.index('<aside class="explain"') :]
    aside = aside[: aside.index("</aside>")]
    assert '<math display="block">' in aside and "What to try" in aside and "<script" not in aside


def test_the_defenses_page_explains_itself(web) -> None:
    """Needs mnist-cnn-robust and mnist-detector (the page shows their verdicts)."""
    html = web.get("/defenses").text
    assert '<aside class="explain"' in html and "adversarial training" in html.lower()


def test_the_attack_explanation_follows_the_chosen_attack(web) -> None:
    html = web.get("/attack", params={"attack": "mifgsm"}, headers={"HX-Request": "true", "HX-Target": "lab"}).text
    assert "How MI-FGSM works" in html and "<html" not in html


def test_the_gan_lab_form_is_filled_in_from_the_link(web) -> None:
    html = web.get("/gan/lab", params={"data": "moons", "cost": "saturating", "k": "3", "seed": "7"}).text
    assert '<option value="saturating" selected>' in html and '<option value="moons" selected>' in html
    assert 'id="k" name="k" type="number" min="1" max="10" value="3"' in html and 'value="7"' in html
    r = web.get("/gan/lab", params={"cost": "sideways"})
    assert r.status_code == 422 and "cost" in r.text
