"""The live lab in Debian's Chromium: the ε slider drawn in the browser from one sweep, results
beside their controls at a laptop's and a projector's size, inline errors and per-model defaults."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.conftest import SQUEEZENET

pytestmark = pytest.mark.browser

DIGIT_PAGE = "/attack?model=mnist-cnn&attack=fgsm&image=sample:mnist-00003&eps=0&run=1"
LAPTOP = {"width": 1366, "height": 900}
PROJECTOR = {"width": 1920, "height": 1080}


def canvas_pixels(page, selector: str) -> np.ndarray:
    """The canvas as (H, W, 3) 8-bit pixels, read back through getImageData."""
    data = page.evaluate(
        """sel => { const c = document.querySelector(sel);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return {w: c.width, h: c.height, d: Array.from(d)}; }""",
        selector,
    )
    return np.array(data["d"], dtype=np.uint8).reshape(data["h"], data["w"], 4)[:, :, :3]


def wait_live(page) -> None:
    page.wait_for_selector("[data-sweep][data-ready=live]", timeout=30_000)


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def test_dragging_epsilon_redraws_without_a_request(page, live_server):
    page.set_viewport_size(LAPTOP)
    page.goto(live_server + DIGIT_PAGE)
    wait_live(page)
    requests: list[str] = []
    # Chromium asks for the favicon again whenever the address changes (the keyboard's "change"
    # events update it); that is the browser's doing, not a request of the page.
    page.on("request", lambda r: None if r.url.endswith("/favicon.svg") else requests.append(r.url))
    slider = page.locator("#p-eps")
    frames, labels = set(), []
    # A pointer drag: "input" at every position and "change" only when let go. (The keyboard sends a
    # change per key, and on a busy machine the half second between two keys counts as letting go.)
    for step in range(1, 31):
        slider.evaluate(
            "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", f"{step / 100:.2f}"
        )
        frames.add(canvas_pixels(page, "#adversarial-img").tobytes())
        labels.append(page.locator("#after-bars").inner_text())
    assert requests == [], f"the drag sent requests: {requests}"
    slider.evaluate("el => el.dispatchEvent(new Event('change', {bubbles: true}))")  # let go
    assert len(frames) >= 10 and len(set(labels)) >= 10
    assert slider.input_value() == "0.3" and page.locator("#eps-value").inner_text() == "0.3"
    assert page.locator("#verdict-eps").inner_text() == "0.3"
    # let go: the address bar and the permalink keep the ε at once; half a second later one request
    # brings the server's result for it, so the download link is that ε's picture
    download = page.locator("a[download]").get_attribute("href")
    assert "eps=0.3" in page.url and "eps=0.3" in page.locator("a.permalink").get_attribute("href")
    page.wait_for_function(
        "href => document.querySelector('a[download]').getAttribute('href') !== href", arg=download, timeout=30_000
    )
    pages = [r for r in requests if "/attack?" in r]
    assert len(pages) == 1 and "eps=0.3" in pages[0] and requests[0] == pages[0], requests
    assert page.locator("#adv-label").inner_text() == labels[-1].split("\n")[0]


def test_a_drawn_frame_equals_what_the_api_returns(page, live_server):
    page.goto(live_server + DIGIT_PAGE)
    wait_live(page)
    page.locator("#p-eps").fill("0.27")  # fill sends input: the page draws that position
    drawn = canvas_pixels(page, "#adversarial-img")
    shown_top = page.locator("#adv-label").inner_text()
    answer = page.request.post(
        live_server + "/api/v1/attacks/fgsm",
        data={"model": "mnist-cnn", "image": "sample:mnist-00003", "params": {"eps": 0.27}},
    ).json()
    png = page.request.get(live_server + answer["adversarial"]["url"]).body()
    served = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert np.array_equal(drawn, served)
    assert shown_top == answer["after"][0]["label"]


def test_laptop_result_is_beside_its_slider(page, live_server):
    page.set_viewport_size(LAPTOP)
    page.goto(live_server + DIGIT_PAGE)
    for selector in ("#p-eps", "#adversarial-img", "#after-bars", ".verdict"):
        assert in_viewport(page, selector), f"{selector} is off-screen at 1366×900"


def test_projector_presentation_view_shows_the_result(page, live_server):
    page.set_viewport_size(PROJECTOR)
    page.goto(live_server + "/present?on=1&next=/attack")
    for selector in ("#p-eps", "#adversarial-img", "#after-bars", ".verdict"):
        assert in_viewport(page, selector), f"{selector} is off-screen in presentation view at 1920×1080"
    page.goto(live_server + "/present?controls=hide&next=/attack")
    assert page.locator("#model").is_hidden() and page.locator("#p-eps").is_visible()
    assert in_viewport(page, "#adversarial-img") and in_viewport(page, "#p-eps")


def test_classify_opens_with_a_result_in_view(page, live_server):
    page.set_viewport_size(LAPTOP)
    page.goto(live_server + "/classify")
    assert in_viewport(page, "#top-label") and in_viewport(page, "#model")


@pytest.mark.skipif(not SQUEEZENET.exists(), reason="needs the local ImageNet weights in ../shared")
def test_switching_to_imagenet_picks_a_photo_and_a_small_epsilon(page, live_server):
    page.goto(live_server + "/attack?model=mnist-cnn&attack=fgsm&image=sample:mnist-00003&eps=0.3&run=1")
    page.select_option("#model", "imagenet-squeezenet")
    page.wait_for_function(
        "() => document.querySelector('#model').value === 'imagenet-squeezenet' && "
        "document.querySelector('#adversarial-img') && "
        "document.querySelector('#adversarial-img').naturalWidth === 224",
        timeout=60_000,
    )
    assert "Chelsea" in page.locator("details.picker summary").inner_text()
    assert abs(float(page.locator("#p-eps").input_value()) - 2 / 255) < 0.001
    page.select_option("#model", "mnist-cnn")
    page.wait_for_function(
        "() => document.querySelector('#adversarial-img') && "
        "document.querySelector('#adversarial-img').naturalWidth === 28",
        timeout=60_000,
    )
    assert "MNIST test digit" in page.locator("details.picker summary").inner_text()


@pytest.mark.skipif(not SQUEEZENET.exists(), reason="needs the local ImageNet weights in ../shared")
def test_a_misspelt_target_is_explained_beside_the_field(page, live_server):
    page.goto(live_server + "/attack?model=imagenet-squeezenet&attack=fgsm")
    page.locator("#target").fill("toastr")
    page.get_by_role("button", name="Run attack").click()
    error = page.locator("#target-error")
    error.wait_for(timeout=30_000)
    assert "toastr" in error.inner_text() and "toaster" in error.inner_text()
    assert page.locator("#attack-form").is_visible() and page.locator("#target").input_value() == "toastr"


@pytest.mark.nojs
def test_without_javascript_the_upload_keeps_the_chosen_model(page, live_server, tmp_path):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(photo)
    page.goto(live_server + "/attack?model=mnist-cnn&attack=fgsm")
    page.select_option("#model", "fashion-cnn")
    page.set_input_files("#file", str(photo))
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url("**image=*")
    assert "model=fashion-cnn" in page.url
    assert page.locator("#model").input_value() == "fashion-cnn"


@pytest.mark.nojs
def test_without_javascript_an_upload_with_no_file_says_so(page, live_server):
    page.goto(live_server + "/classify?model=mnist-cnn")
    page.get_by_role("button", name="Upload and classify").click()
    assert "Choose an image file" in page.content()
