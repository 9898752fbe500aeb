"""An experiment in Debian's Chromium: start it, watch its progress, see the plot."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_start_a_robustness_curve_watch_it_and_see_the_plot(page, live_server):
    page.goto(live_server + "/experiments/robustness")
    page.fill("#x-models", "mnist-mlp, mnist-cnn")
    page.select_option("#x-attack", "fgsm")
    page.fill("#x-eps", "0, 0.1, 0.2, 0.3")
    page.fill("#x-n", "300")
    page.fill("#x-seed", "7")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/jobs/\w+$"))
    seen = set()
    for _ in range(600):  # the progress block is polled once a second
        status = page.locator("#job-status").get_attribute("data-status")
        seen.add(status)
        if status == "done":
            break
        seen.add(float(page.locator("#job-progress").get_attribute("value")))
        page.wait_for_timeout(100)
    assert "done" in seen and any(isinstance(v, float) and 0 < v < 1 for v in seen)  # progress was shown
    chart = page.locator("svg.plot")
    assert chart.locator("polyline.m0").get_attribute("points") and chart.locator("polyline.m1").get_attribute("points")
    rows = page.locator(".experiment-result table tbody tr")
    assert rows.count() == 4 and "100" not in rows.last.inner_text()  # accuracy falls by ε = 0.3
