"""The attack-lab page: full renders (JavaScript off) and the htmx fragments."""

from __future__ import annotations

from helpers import encode, photo_of_digit
from PIL import Image

from app.config import ROOT

HX = {"HX-Request": "true"}


def test_form_is_generated_from_the_params_schema(client) -> None:
    html = client.get("/attack?attack=pgd").text
    for name in ("eps", "alpha", "steps", "restarts"):
        assert f'name="{name}"' in html
    assert 'type="checkbox" name="random_start"' in html and "adv-label" not in html


def test_run_renders_the_triptych_and_a_permalink(client) -> None:
    html = client.get("/attack?model=mnist-cnn&image=sample:mnist-00003&attack=pgd&target=3&steps=20&run=1").text
    assert '<span id="adv-label">3</span>' in html and "Fooled" in html
    assert html.count("<html") == 1 and "svg" in html and "step 20" in html
    assert (
        "/attack?model=mnist-cnn&amp;image=sample%3Amnist-00003&amp;attack=pgd&amp;target=3&amp;seed=0&amp;run=1"
        in html
    )


def test_htmx_slider_gets_only_the_result_block(client) -> None:
    r = client.get("/attack?attack=fgsm&eps=0.3&run=1", headers={**HX, "HX-Target": "result"})
    assert r.status_code == 200 and "<html" not in r.text and 'id="attack-form"' not in r.text
    assert 'id="adv-label"' in r.text


def test_switching_attack_resets_to_its_defaults(client) -> None:
    html = client.get("/attack?attack=pgd&params_for=fgsm&eps=0.1", headers=HX).text
    assert 'name="eps" value="0.3"' in html and "<html" not in html


def test_upload_then_attack_it(client) -> None:
    digit = Image.open(ROOT / "gallery" / "mnist" / "00000.png")
    r = client.post(
        "/attack",
        data={"model": "mnist-cnn", "attack": "fgsm"},
        follow_redirects=False,
        files={"file": ("seven.png", encode(photo_of_digit(digit), "PNG"), "image/png")},
    )
    assert r.status_code == 303 and "image=" in r.headers["location"]
    page = client.get(r.headers["location"] + "&run=1&eps=0").text
    assert '<span id="adv-label">7</span>' in page


def test_bad_parameter_on_the_page_is_a_clear_422(client) -> None:
    r = client.get("/attack?attack=pgd&steps=0&run=1")
    assert r.status_code == 422 and "steps" in r.text


def test_cw_steps_are_labelled_with_their_search_round(client) -> None:
    html = client.get("/attack?model=mnist-cnn&image=sample:mnist-00003&attack=cw&steps=10&search_steps=3&run=1").text
    assert "round 1 of 3 of the search over c" in html and "round 3 of 3 of the search over c" in html
    assert html.count('class="round"') == 2  # the chart marks where rounds 2 and 3 begin
    assert "(label)" in html and 'class="bars step-bars"' in html  # each step's bars, listed without JavaScript


def test_fgsm_runs_when_the_page_opens_and_keeps_a_bad_target_beside_its_field(client) -> None:
    html = client.get("/attack").text
    assert 'id="adv-label"' in html and "data-sweep" in html
    r = client.get("/attack?attack=fgsm&target=11&run=1")
    assert r.status_code == 422 and 'id="target-error"' in r.text and 'id="attack-form"' in r.text
    assert "between 0 and 9" in r.text


def test_switching_to_imagenet_resets_picture_target_and_epsilon(client, components) -> None:
    if not components.zoo.entries["imagenet-squeezenet"].available:
        return
    html = client.get(
        "/attack?model=imagenet-squeezenet&shown_model=mnist-cnn&image=sample:mnist-00003"
        "&attack=pgd&params_for=pgd&eps=0.3&target=3"
    ).text
    assert 'value="sample:chelsea" checked' in html and 'name="eps" value="0.007843"' in html
    assert 'name="alpha" value="0.001961"' in html and 'list="class-names" value=""' in html
