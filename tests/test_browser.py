"""The pages in Debian's Chromium (driven by Playwright), with htmx live and with JavaScript off."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from app.config import ROOT
from tests.conftest import SQUEEZENET
from tests.helpers import photo_of_digit, pick_from_gallery

pytestmark = pytest.mark.browser

DIGIT = "mnist-00003"  # an MNIST test image of a 0
DIGIT_LABEL = "0"


def gallery_digit(label: int) -> Image.Image:
    """The first committed MNIST test digit with this label."""
    samples = json.loads((ROOT / "gallery" / "index.json").read_text())["samples"]
    first = next(s for s in samples if s["kind"] == "digit" and s["label"] == label)
    return Image.open(ROOT / "gallery" / first["file"])


def test_home_then_classify_a_gallery_digit_live(page, live_server):
    page.goto(live_server + "/")
    assert "AdvLab" in page.title()
    page.get_by_role("link", name="Classify").first.click()
    page.wait_for_url("**/classify")
    htmx_loaded = page.evaluate("() => typeof window.htmx === 'object'")
    assert htmx_loaded, "htmx did not load from /static/vendor"

    page.select_option("#model", "mnist-cnn")
    pick_from_gallery(page, f"sample:{DIGIT}")

    label = page.locator("#top-label")
    label.wait_for(timeout=30_000)
    assert label.inner_text() == DIGIT_LABEL
    assert page.locator(".truth .ok").is_visible()
    assert page.locator("ol.bars li").count() == 5
    # htmx swapped the lab in place and pushed the permalink into the address bar
    assert f"image=sample%3A{DIGIT}" in page.url
    assert page.locator("img.model-input").evaluate("img => img.naturalWidth") == 28


def test_upload_a_photographed_digit_live(page, live_server, tmp_path):
    photo = tmp_path / "my-seven.jpg"
    photo_of_digit(gallery_digit(7)).save(photo, quality=90)
    page.goto(live_server + "/classify?model=mnist-cnn")
    page.set_input_files("#file", str(photo))
    page.get_by_role("button", name="Upload and classify").click()
    page.wait_for_url(lambda url: "image=" in url and "sample" not in url, timeout=30_000)
    assert page.locator("#top-label").inner_text() == "7"


def test_a_broken_upload_shows_a_message_live(page, live_server, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not a picture")
    page.goto(live_server + "/classify")
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Upload and classify").click()
    message = page.locator("#messages")
    message.get_by_text("image").first.wait_for(timeout=30_000)
    assert "PNG" in message.inner_text() or "image" in message.inner_text()


@pytest.mark.nojs
def test_everything_works_with_javascript_off(page, live_server, tmp_path):
    page.goto(live_server + "/")
    page.get_by_role("link", name="Classify").first.click()
    page.wait_for_url("**/classify")
    page.select_option("#model", "mnist-cnn")
    pick_from_gallery(page, f"sample:{DIGIT}")
    page.get_by_role("button", name="Classify", exact=True).click()
    page.wait_for_url("**image=sample*")
    assert page.locator("#top-label").inner_text() == DIGIT_LABEL

    photo = tmp_path / "my-three.png"
    photo_of_digit(gallery_digit(3)).save(photo)
    page.set_input_files("#file", str(photo))
    page.get_by_role("button", name="Upload and classify").click()
    page.wait_for_url("**image=*")
    assert page.locator("#top-label").inner_text() == "3"


@pytest.mark.skipif(not SQUEEZENET.exists(), reason="needs the local ImageNet weights in ../shared")
def test_a_photo_with_the_imagenet_model(page, live_server):
    page.goto(live_server + "/classify?model=imagenet-squeezenet&image=sample:chelsea")
    assert page.locator("#top-label").inner_text().endswith("cat")
    assert page.locator("img.model-input").evaluate("img => img.naturalWidth") == 224


def test_fgsm_slider_updates_the_result_live(page, live_server):
    page.goto(live_server + "/attack?model=mnist-cnn&attack=fgsm&image=sample:mnist-00003&eps=0&run=1")
    assert page.locator("#adv-label").inner_text() == "0"
    page.wait_for_selector("[data-sweep][data-ready=live]", timeout=30_000)
    slider = page.locator("#p-eps")
    box = slider.bounding_box()
    page.mouse.move(box["x"] + 4, box["y"] + box["height"] / 2)  # the thumb, at ε = 0
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=8)  # drag to ~0.4
    # while the button is still down, the picture and the verdict have followed
    eps = slider.input_value()
    assert float(eps) > 0.2 and page.locator("#eps-value").inner_text() == eps
    assert page.locator("canvas#adversarial-img").count() == 1
    assert page.locator("#adv-label").inner_text() != "0", "at ε > 0.2 FGSM fools mnist-cnn on this digit"
    assert "Fooled" in page.locator(".verdict").inner_text()
    page.mouse.up()
    page.wait_for_url(lambda url: f"eps={eps}&" in url or url.endswith(f"eps={eps}"), timeout=30_000)


def test_targeted_pgd_makes_the_target_win(page, live_server):
    page.goto(live_server + "/attack?model=mnist-cnn&image=sample:mnist-00003")
    page.select_option("#attack", "pgd")
    page.locator("#p-steps").wait_for()  # the form was rebuilt with PGD's parameters
    page.select_option("#target", "3")
    page.get_by_role("button", name="Run attack").click()
    page.locator("#adv-label").wait_for(timeout=60_000)
    assert page.locator("#adv-label").inner_text() == "3"
    assert "target: 3" in page.locator(".verdict").inner_text()
    # the chart and the scrubber through the steps
    assert page.locator("svg.chart polyline.target").count() == 1
    scrub = page.locator("[data-scrubber] input[type=range]")
    scrub.fill("0")
    visible = page.locator("ol.snapshots > li:not([hidden]) figcaption")
    assert visible.count() == 1 and visible.inner_text().startswith("step 0")
    assert "3 (target)" in visible.inner_text() and "0 (label)" in visible.inner_text()  # that step's bars
    marker = page.locator("svg.chart .step-marker")
    assert marker.is_visible() and float(marker.get_attribute("x")) == -1  # the chart marks step 0
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(
        "() => document.querySelector('[data-scrubber] input[type=range]').value > 3", timeout=10_000
    )
    page.goto(live_server + page.locator("a.permalink").get_attribute("href"))
    assert page.locator("#adv-label").inner_text() == "3"
