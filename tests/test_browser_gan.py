"""The GAN studio and the training lab in Debian's Chromium, live with htmx."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def fill(page, group: str, want: list[str], avoid: list[str]) -> None:
    page.select_option("#fill-group", group)
    page.select_option("#fill-want", want)
    page.select_option("#fill-avoid", avoid)
    with page.expect_response(re.compile(r"/gan\?")):
        page.get_by_role("button", name="Find 3").click()
    page.wait_for_url(re.compile(rf"[?&]{group}=1\."))


def test_three_faces_per_group_make_a_woman_with_glasses(page, live_server):
    page.goto(live_server + "/gan?model=dcgan-faces")
    assert page.locator(".gan-grid figure").count() == 24
    # the pictures come with the page; the labels and D's verdicts follow by themselves
    page.locator("#gan-grid:not([hx-get])").wait_for()  # the judged grid has replaced the first one
    assert (
        page.locator("#gan-grid .gan-label.muted").count() == 0 and page.locator("#gan-grid .gan-label").count() == 24
    )
    assert page.locator("#gan-grid figure small").first.inner_text().startswith("D ")
    fill(page, "a", ["Male", "Eyeglasses"], [])
    fill(page, "b", ["Male"], ["Eyeglasses"])
    fill(page, "c", [], ["Male", "Eyeglasses"])
    assert all(page.locator(f".group-box:nth-child({i}) figure").count() == 3 for i in (1, 2, 3))
    assert page.locator(".equation figure").count() == 4  # mean(A), mean(B), mean(C) and the result
    with page.expect_response(re.compile(r"/gan\?")):
        page.get_by_role("link", name=re.compile("The lecture's example")).click()
    page.wait_for_load_state("networkidle")
    result = page.locator(".equation figure").last
    label = result.locator(".gan-label").inner_text()
    assert "Eyeglasses" in label and "Male" not in label  # man with glasses − man + woman = woman with glasses
    assert page.locator(".gan-grid.three figure").count() == 9
    assert re.search(r"a=1\.\d+.*b=1\.\d+.*c=1\.\d+", page.url)  # the whole view is in the address


def test_the_lab_trains_pauses_and_its_curves_move(page, live_server):
    page.goto(live_server + "/gan/lab?data=moons")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url(re.compile(r"/gan/lab/[\w-]+$"))
    step = lambda: int(page.locator("#lab-step").inner_text().split()[1])
    page.wait_for_function(
        "() => parseInt(document.querySelector('#lab-step').textContent.split(' ')[1]) > 20", timeout=30_000
    )
    first_curve, first_step = page.locator("svg.plot polyline.d_loss").get_attribute("points"), step()
    page.wait_for_function(
        f"() => parseInt(document.querySelector('#lab-step').textContent.split(' ')[1]) > {first_step}", timeout=30_000
    )  # the next poll
    assert page.locator("svg.plot polyline.d_loss").get_attribute("points") != first_curve
    page.locator("#lab-pause-button").click()
    page.wait_for_function("() => document.querySelector('#lab-status').textContent === 'paused'", timeout=10_000)
    paused_at = step()
    page.wait_for_timeout(2500)  # two more polls
    assert step() == paused_at
    assert page.locator("#lab-scatter circle.fake").count() == 512


@pytest.mark.nojs
def test_without_javascript_the_grid_offers_its_labels(page, live_server):
    page.goto(live_server + "/gan?model=dcgan-mnist&seed=3")
    assert page.locator("#gan-grid .gan-label.muted").count() == 24  # pictures only, labels to follow
    page.get_by_role("link", name="Show the labels and D's verdicts").click()
    page.wait_for_url("**labels=true")
    assert page.locator("#gan-grid .gan-label:not(.muted)").count() == 24
    assert "D " in page.locator("#gan-grid figure small").first.inner_text()
