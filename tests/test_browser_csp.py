"""Every page under the Content-Security-Policy in Debian's Chromium: nothing is refused.

Chromium reports a refused inline script, handler or style twice: as a console error ("Refused to
... because it violates the following Content Security Policy directive") and as a
``securitypolicyviolation`` event, which an init script (run by the browser, outside the policy)
collects. The test fails on either.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/classify",
    "/classify?model=mnist-cnn&image=sample:mnist-00003",
    "/attack",
    "/attack?model=mnist-cnn&attack=pgd&image=sample:mnist-00003&steps=5&run=1",
    "/gradients",
    "/gradients?model=mnist-cnn&image=sample:mnist-00003",
    "/linear",
    "/gan",
    "/gan/lab",
    "/cyclegan",
    "/defenses",
    "/experiments",
    "/presets",
]

COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at line " + e.lineNumber);
});
"""


@pytest.fixture
def watched(browser):
    """A page that records CSP complaints (and nothing else: other tests judge 404s and script errors)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None)
    yield page, complaints
    context.close()


def violations(page, complaints: list[str]) -> list[str]:
    return complaints + page.evaluate("() => window.__csp")


@pytest.mark.parametrize("path", PAGES)
def test_no_csp_violations(watched, live_server, path):
    page, complaints = watched
    response = page.goto(live_server + path, wait_until="networkidle")
    assert response is not None and response.status < 500
    assert "content-security-policy" in response.headers
    assert page.evaluate("() => typeof window.htmx === 'object'"), "htmx did not run under the policy"
    assert not violations(page, complaints), f"{path}: {violations(page, complaints)}"


def test_the_detector_sees_a_blocked_inline_handler(watched, live_server):
    """The test above can fail: an inline handler added to a page is refused and reported."""
    page, complaints = watched
    page.goto(live_server + "/")
    page.evaluate("""() => document.body.insertAdjacentHTML("beforeend",
        '<img src="/static/favicon.svg" onload="window.ran = true">')""")
    page.wait_for_function("() => window.__csp.length > 0", timeout=5_000)
    assert page.evaluate("() => window.ran === undefined"), "the inline handler ran: the policy is not applied"
    assert any("script-src" in v for v in violations(page, complaints))


def test_live_values_follow_their_slider_without_inline_handlers(watched, live_server):
    """static/js/app.js mirrors a slider into its <output data-live>, as the removed oninput did."""
    page, complaints = watched
    page.goto(live_server + "/gan/lab")  # any page loads app.js; build a slider there
    page.evaluate("""() => document.querySelector("main").insertAdjacentHTML("beforeend",
        '<output id="v" for="s" data-live>1</output><input id="s" type="range" min="0" max="4" value="1">')""")
    page.locator("#s").fill("3")
    assert page.locator("#v").inner_text() == "3"
    assert not violations(page, complaints)


# ReDoc's bundle asks for its small logo on its makers' CDN; the docs' policy blocks it, and ReDoc
# then leaves the image out. Nothing else may even be asked for elsewhere.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.mark.parametrize("path, shows", [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_the_api_docs_render_offline_under_their_policy(watched, live_server, path, shows):
    """Swagger UI and ReDoc come from static/vendor: every request stays on this server."""
    page, complaints = watched
    elsewhere, answered = [], []
    local = (live_server, "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) or r.url == REDOC_LOGO else elsewhere.append(r.url))
    page.on("response", lambda r: None if r.url.startswith(local) else answered.append(r.url))
    page.goto(live_server + path, wait_until="networkidle")
    title = page.locator(shows).first
    title.wait_for(timeout=30_000)
    assert "AdvLab" in title.inner_text()
    assert "/api/v1/attacks/fgsm/sweep" in page.locator("body").inner_text()  # the schema was read and drawn
    assert not elsewhere and not answered, (elsewhere, answered)
    problems = [v for v in violations(page, complaints) if REDOC_LOGO not in v and "cdn.redoc.ly" not in v]
    assert not problems, f"{path}: {problems}"
