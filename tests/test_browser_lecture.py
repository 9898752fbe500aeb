"""Lecture mode in Debian's Chromium: every preset in presentation view (one screenshot each in
test-artifacts/), every preset reproducing its result, and the keyboard shortcuts of lecture.js."""

from __future__ import annotations

import re

import pytest

from app.web.presets import PRESETS

pytestmark = pytest.mark.browser

BY_SLUG = {p.slug: (k, p) for k, p in enumerate(PRESETS, start=1)}
FGSM_9 = "/attack?model=mnist-cnn&image=sample:mnist-00007&attack=fgsm&eps=0.15&run=1"  # still a 9; a 4 from 0.2


def attack_fooled(label: str):
    def check(page) -> None:
        assert page.locator("#adv-label").inner_text() == label
        assert page.locator(".verdict .ok").inner_text().startswith("✓ Fooled")

    return check


def verdict(row: str, words: str):
    return lambda page: words in page.locator(row).inner_text()


def all_of(*checks):
    def check(page) -> None:
        for c in checks:
            assert c(page) is not False

    return check


# What each demo must show, and the element whose text is its result (compared between two opens).
SHOWS = {
    "linear-toy": (".toy-numbers", lambda page: page.locator("#y-along-w").inner_text() == "0.832"),
    "fgsm-slider": (".verdict", attack_fooled("4")),
    "pgd-7-to-3": (".verdict", attack_fooled("3")),
    "fooling-noise": (".verdict", attack_fooled("3")),
    "cw-invisible": (".verdict", attack_fooled("consomme")),
    "cat-to-iguana": (".verdict", attack_fooled("common iguana")),
    "transfer": (".experiment-result", lambda page: page.locator("table.heatmap td.heat").count() > 0),
    "robust-model": (
        ".verdicts",
        all_of(verdict("tr.classifier >> nth=0", "fooled"), verdict("tr.classifier >> nth=1", "right")),
    ),
    "adaptive-attack": (
        ".verdicts",
        all_of(verdict("tr.classifier >> nth=0", "fooled"), verdict("tr.detector", "lets it through")),
    ),
    "shortcut": (".experiment-result", lambda page: page.locator(".experiment-result svg.plot").count() == 1),
    # both costs trained at the same settings: the saturating run's gradient is decades below the other's
    "gan-saturating": (
        "#compare-numbers",
        lambda page: (
            float(page.locator("#compare-numbers tr.saturating td.grad").inner_text()) * 1000
            < float(page.locator("#compare-numbers tr.non-saturating td.grad").inner_text())
        ),
    ),
    "latent-arithmetic": (
        ".equation",
        lambda page: page.locator(".equation img").count() == 4 and re.search(r"a=.*b=.*c=", page.url) is not None,
    ),
}


def test_every_preset_has_a_check() -> None:
    assert set(SHOWS) == set(BY_SLUG)


def assert_shows_a_result(page, result: str) -> None:
    """Every demo is rendered on the server, so its result is there as soon as the page has loaded
    (or, for a demo that starts something, as soon as the page it moves on to has)."""
    page.locator(result).first.wait_for(state="attached", timeout=30_000)
    assert page.locator("main .error").count() == 0, page.locator("main .error").first.inner_text()
    assert "have not been run yet" not in page.locator("main").inner_text(), "the experiment's shipped run is missing"
    assert page.locator(result).count() > 0, f"no {result} on the page"


def fingerprint(page, result: str) -> dict:
    """What a demo shows: its result images (content-addressed, so equal URLs mean equal pixels),
    the settings in its forms, and the text of its result."""
    return page.evaluate(
        """(result) => {
        const main = document.querySelector("main");
        return {
          images: [...main.querySelectorAll("img, image")].map(i => i.getAttribute("src") || i.getAttribute("href"))
                    .filter(src => src.startsWith("/api/v1/images/")),
          fields: [...main.querySelectorAll("input:not([type=file]), select")]
                    .filter(e => e.type !== "radio" || e.checked).map(e => e.name + "=" + e.value),
          text: main.querySelector(result).innerText,
        };
    }""",
        result,
    )


def accessibility_problems(page) -> list[str]:
    """Images without alt text, and form controls without a label a screen reader can announce."""
    return page.evaluate("""() => {
        const problems = [];
        document.querySelectorAll("main img").forEach(img => {
            if (!(img.getAttribute("alt") || "").trim()) problems.push("img without alt: " + img.src);
        });
        document.querySelectorAll("main input:not([type=hidden]), main select, main textarea").forEach(el => {
            const named = el.labels.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
            if (!named) problems.push("unlabelled " + el.tagName + " " + (el.name || el.id));
        });
        return problems;
    }""")


@pytest.mark.parametrize("slug", list(BY_SLUG))
def test_preset_in_presentation_view(page, live_server, slug):
    k, preset = BY_SLUG[slug]
    result, shows = SHOWS[slug]
    # The no-JavaScript route: set the cookie, then open demo k of the sequence.
    response = page.goto(f"{live_server}/present?on=1&next=/presets/{k}", timeout=60_000)
    assert response is not None and response.status == 200
    assert page.evaluate("() => document.body.className") == "present"
    assert page.locator("#sequence").inner_text().startswith(f"Demo {k} of {len(PRESETS)}")
    assert_shows_a_result(page, result)
    assert shows(page) is not False
    assert page.locator("aside.explain math").count() > 0  # the formula beside the tool
    assert not accessibility_problems(page)


@pytest.mark.parametrize("slug", list(BY_SLUG))
def test_preset_reproduces_its_result(page, live_server, slug):
    _, preset = BY_SLUG[slug]
    result, _ = SHOWS[slug]
    seen = []
    for _ in range(2):
        response = page.goto(live_server + preset.url, timeout=60_000)
        assert response is not None and response.status == 200
        assert_shows_a_result(page, result)
        seen.append(fingerprint(page, result))
    assert seen[0] == seen[1]
    assert seen[0]["text"].strip()
    if preset.url.startswith(("/attack", "/defenses", "/gan/fill")):
        assert seen[0]["images"], "the result's images are missing"


# --- the keyboard --------------------------------------------------------------------------------


def test_p_toggles_the_presentation_view_and_it_sticks(page, live_server):
    page.goto(live_server + "/linear")
    page.keyboard.press("p")
    assert page.evaluate("() => document.body.className") == "present"
    page.reload()  # the cookie lecture.js set is the one the server reads
    assert page.evaluate("() => document.body.className") == "present"
    assert page.get_by_role("link", name="Leave presentation view").is_visible()
    assert not page.get_by_role("link", name="Presentation view", exact=True).is_visible()

    page.keyboard.press("h")
    assert page.evaluate("() => document.body.className") == "present bare"
    assert not page.locator("#toy").is_visible() and page.locator(".toy-numbers").is_visible()
    page.keyboard.press("p")  # leaving the view brings the controls back
    assert page.evaluate("() => document.body.className") == ""
    assert page.locator("#toy").is_visible()


def test_typing_in_a_field_is_not_a_shortcut(page, live_server):
    page.goto(live_server + "/linear")
    page.locator("#w").press("End")
    page.keyboard.type(", 2p")
    assert page.evaluate("() => document.body.className") == ""
    assert page.locator("#w").input_value().endswith(", 2p")


def test_plus_and_minus_move_epsilon_and_the_result_follows(page, live_server):
    page.goto(live_server + FGSM_9)
    assert page.locator("#adv-label").inner_text() == "9"
    page.wait_for_selector("[data-sweep][data-ready=live]", timeout=30_000)  # the sweep has arrived
    page.keyboard.press("+")  # data-eps: five positions of the slider, 0.05
    page.wait_for_url(re.compile(r"eps=0\.2\b"), timeout=30_000)
    page.wait_for_function("() => document.querySelector('#adv-label').textContent === '4'", timeout=30_000)
    assert page.locator("#eps-value").inner_text() == "0.2"
    assert "at ε = 0.2" in page.locator(".verdict").inner_text()
    page.keyboard.press("-")
    page.wait_for_url(re.compile(r"eps=0\.15\b"), timeout=30_000)
    page.wait_for_function("() => document.querySelector('#adv-label').textContent === '9'", timeout=30_000)


def test_plus_moves_the_linear_toy_by_its_own_step(page, live_server):
    page.goto(live_server + "/linear")
    page.keyboard.press("+")  # data-eps="0.05" on this slider
    page.wait_for_url(re.compile(r"eps=0\.25\b"), timeout=30_000)
    page.wait_for_function("() => document.querySelector('#eps-value').textContent === '0.25'", timeout=30_000)
    assert float(page.locator("#y-along-w").inner_text()) > 0.832


def test_comma_and_period_step_through_the_attack(page, live_server):
    page.goto(live_server + BY_SLUG["pgd-7-to-3"][1].url)
    scrubber = page.locator("[data-scrubber] input[type=range]")
    last = int(scrubber.get_attribute("max"))
    assert int(scrubber.input_value()) == last
    page.keyboard.press(",")
    page.keyboard.press(",")
    assert int(scrubber.input_value()) == last - 2
    visible = page.locator("ol.snapshots > li:not([hidden]) figcaption")
    assert visible.count() == 1
    shown = visible.inner_text()
    page.keyboard.press(".")
    assert int(scrubber.input_value()) == last - 1 and visible.inner_text() != shown


def test_n_and_b_move_through_the_sequence(page, live_server):
    page.goto(live_server + "/presets/1")
    assert page.locator("#sequence a[rel=prev]").count() == 0
    page.keyboard.press("n")
    page.wait_for_url("**/attack?*attack=fgsm*")
    page.locator("#adv-label").wait_for()
    assert page.locator("#sequence").inner_text().startswith("Demo 2 of")
    page.keyboard.press("b")
    page.wait_for_url("**/linear?eps=0.2")
    page.get_by_role("link", name="Next demo →").click()  # the same as a visible link
    page.wait_for_url("**/attack?*attack=fgsm*")


def test_question_mark_shows_the_shortcuts(page, live_server):
    page.goto(live_server + "/gradients")
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts-dialog")
    assert dialog.is_visible() and "Next / previous demo" in dialog.inner_text()
    page.keyboard.press("p")  # keys are not shortcuts while the list is open
    assert page.evaluate("() => document.body.className") == ""
    page.keyboard.press("Escape")
    assert not dialog.is_visible()


def test_save_this_page_after_htmx_changed_it(page, live_server):
    page.goto(live_server + FGSM_9)
    page.wait_for_selector("[data-sweep][data-ready=live]", timeout=30_000)
    page.keyboard.press("-")
    page.wait_for_url(re.compile(r"eps=0\.1\b"), timeout=30_000)
    page.get_by_role("link", name="Save this page").click()
    page.wait_for_url("**/presets?*")
    assert "eps=0.1&" in page.locator("#new-url").input_value()  # the address the slider left, not the first one
    page.fill("#new-title", "FGSM right at the edge")
    page.get_by_role("button", name="Add to my list").click()
    page.wait_for_url("**/presets?mine=*")
    page.get_by_role("link", name="FGSM right at the edge", exact=True).click()
    page.wait_for_url(re.compile(r"eps=0\.1\b"))
    assert page.locator("#sequence").inner_text().startswith("Demo 1 of 1 (your list)")
    assert page.locator("#adv-label").inner_text() == "9"


def test_the_explanation_is_rendered_as_mathml(page, live_server):
    page.goto(live_server + "/attack?attack=cw")
    math = page.locator("aside.explain math[display=block]").first
    assert math.evaluate("m => getComputedStyle(m).display") == "block math"  # Chromium's MathML layout
    assert math.bounding_box()["height"] > 20


# --- JavaScript off ---------------------------------------------------------------------------


@pytest.mark.nojs
def test_presentation_view_and_hidden_controls_without_javascript(page, live_server):
    page.goto(live_server + "/linear?eps=0.3")
    page.get_by_role("link", name="Presentation view", exact=True).click()
    page.wait_for_url("**/linear?eps=0.3")
    assert page.evaluate("() => document.body.className") == "present"
    page.get_by_role("link", name="Hide controls").click()
    page.wait_for_url("**/linear?eps=0.3")
    assert not page.locator("#toy").is_visible() and page.locator(".toy-numbers").is_visible()
    page.get_by_role("link", name="Show controls").click()
    assert page.locator("#toy").is_visible()
    page.get_by_role("link", name="Leave presentation view").click()
    page.wait_for_url("**/linear?eps=0.3")
    assert page.evaluate("() => document.body.className") == ""


@pytest.mark.nojs
def test_the_sequence_works_without_javascript(page, live_server):
    page.goto(live_server + "/presets")
    page.get_by_role("link", name="Start in presentation view").click()
    page.wait_for_url("**/linear?eps=0.2")
    assert page.evaluate("() => document.body.className") == "present"
    page.get_by_role("link", name="Next demo →").click()
    page.wait_for_url("**/attack?*attack=fgsm*")
    assert page.locator("#adv-label").inner_text() == "4"
    page.get_by_role("link", name="← Previous demo").click()
    page.wait_for_url("**/linear?eps=0.2")
    page.get_by_role("link", name="Leave the sequence").click()
    page.wait_for_url("**/linear?eps=0.2")
    assert page.locator("#sequence").count() == 0
