"""The gradient view and the linear toy in Debian's Chromium, live with htmx and with JavaScript off."""

from __future__ import annotations

import re

import pytest

from tests.helpers import pick_from_gallery

pytestmark = pytest.mark.browser

DIGIT = "sample:mnist-00003"  # an MNIST test 0


def test_the_linear_toy_follows_the_epsilon_slider(page, live_server):
    page.goto(live_server + "/")
    page.get_by_role("link", name="Linear toy").first.click()
    page.wait_for_url("**/linear")
    after = page.locator("#y-along-w")
    assert after.inner_text() == "0.832" and page.locator("#y-before").inner_text() == "0.018"

    slider = page.locator("#eps")
    slider.focus()
    for _ in range(10):  # 0.20 -> 0.30 in steps of 0.01, as a keyboard user would
        page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"eps=0\.3\b"), timeout=30_000)
    page.wait_for_function("() => document.querySelector('#y-along-w').textContent !== '0.832'")
    assert float(after.inner_text()) > 0.832
    assert page.locator("#eps-value").inner_text() == "0.30"
    assert page.locator("svg.plot polyline").count() == 2


def test_the_gradient_of_a_gallery_digit_live(page, live_server):
    page.goto(live_server + "/gradients?model=mnist-mlp")
    assert page.locator("#grad-check-summary").is_visible()  # the page opens with an example computed
    pick_from_gallery(page, "sample:mnist-00000")
    page.wait_for_url("**image=sample%3Amnist-00000*", timeout=30_000)
    pick_from_gallery(page, DIGIT)
    page.wait_for_url("**image=sample%3Amnist-00003*", timeout=30_000)
    summary = page.locator("#grad-check-summary")
    summary.wait_for(timeout=30_000)
    assert "Max relative error" in summary.inner_text()
    assert float(page.locator("#max-rel-error").inner_text()) < 1e-3
    assert page.locator("table.grad-check tbody tr").count() == 8
    assert "image=sample%3Amnist-00003" in page.url
    for img in page.locator(".grad-maps img").all():
        loaded = (
            "img => img.complete ? img.naturalWidth : new Promise(done => img.onload = () => done(img.naturalWidth))"
        )
        assert img.evaluate(loaded) == 28


@pytest.mark.nojs
def test_both_pages_work_with_javascript_off(page, live_server):
    page.goto(live_server + "/linear")
    page.fill("#w", "1, 1, 1, 1")
    page.fill("#x", "-1, -1, 0, 0")
    page.get_by_role("button", name="Update").click()
    page.wait_for_url("**w=1*")
    assert page.locator("#y-before").inner_text() == "0.119"  # sigmoid(-2)
    assert page.locator("#y-along-sign").inner_text() == "0.231"  # sigmoid(-2 + 0.2 * 4)

    page.goto(live_server + "/gradients")
    page.select_option("#model", "mnist-cnn")
    pick_from_gallery(page, DIGIT)
    page.fill("#k", "16")
    page.get_by_role("button", name="Compute the gradient").click()
    page.wait_for_url("**image=sample*")
    assert page.locator("#grad-class").inner_text() == "0"
    assert page.locator("table.grad-check tbody tr").count() == 16
