"""The docs' screenshots, taken in Debian's Chromium against a running server.

    .venv/bin/python tools/screenshots.py http://127.0.0.1:8000

docs/attack-lab-live.png: the attack lab at 1366×900 while ε is being dragged (the frame drawn in
the browser at ε = 0.25); docs/presentation-view.png: the FGSM demo in presentation view with the
controls hidden, on a 1920×1080 projector; docs/cyclegan.png and docs/cyclegan-presentation.png:
the CycleGAN page at 1366×900, and in presentation view at 1920×1080.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parents[1] / "docs"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROUND_TRIP_SHOWN = "() => [...document.querySelectorAll('.result.cycle img')].every(i => i.complete && i.naturalWidth)"


def main(base: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(base + "/attack?model=mnist-cnn&attack=fgsm&image=sample:mnist-00007&eps=0.1&run=1")
        page.wait_for_selector("[data-sweep][data-ready=live]")
        slider = page.locator("#p-eps")
        box = slider.bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] * 0.2, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=12)  # held down: mid-drag
        page.screenshot(path=str(DOCS / "attack-lab-live.png"))
        page.mouse.up()
        page.close()

        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(base + "/present?on=1&next=/presets/2")
        page.goto(base + "/present?controls=hide&next=/presets/2")
        page.wait_for_selector("[data-sweep][data-ready=live]")
        page.screenshot(path=str(DOCS / "presentation-view.png"))
        page.close()
        cyclegan(browser, base)
        browser.close()


def cyclegan(browser, base: str) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(base + "/cyclegan?direction=smile&seed=0&index=8")
    page.wait_for_function(ROUND_TRIP_SHOWN)
    page.screenshot(path=str(DOCS / "cyclegan.png"))
    page.close()
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(base + "/present?on=1&next=/cyclegan?direction=smile%26seed=0%26index=8")
    page.wait_for_function(ROUND_TRIP_SHOWN)
    page.screenshot(path=str(DOCS / "cyclegan-presentation.png"))
    page.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
