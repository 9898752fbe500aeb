"""The live GAN-training lab over HTTP: sessions, controls, the cap, idle sessions, the page."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.gan.lab import LabConfig
from app.main import create_app
from app.web.charts import line_chart
from app.web.presets import PRESETS


def start(client, **config):
    r = client.post("/api/v1/gan-lab/sessions", json=config)
    assert r.status_code == 201, r.text
    return r.json()


def control(client, sid, action, steps=1):
    r = client.post(f"/api/v1/gan-lab/sessions/{sid}/control", json={"action": action, "steps": steps})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_session_steps_plays_pauses_resets_and_stops(client) -> None:
    s = start(client, data="ring", seed=3)
    assert s["steps"] == 0 and not s["playing"] and len(s["real_points"]) == 512 and s["decision_map"]
    s = control(client, s["id"], "step", 5)
    assert s["steps"] == 5 and [p["step"] for p in s["history"]] == [1, 2, 3, 4, 5]
    assert all(0 < p["d_fake"] < 1 and p["g_grad_norm"] > 0 for p in s["history"])
    control(client, s["id"], "play")
    deadline = time.monotonic() + 20
    while client.get(f"/api/v1/gan-lab/sessions/{s['id']}").json()["steps"] < 30:
        assert time.monotonic() < deadline, "playing did not advance"
        time.sleep(0.1)
    paused = control(client, s["id"], "pause")
    time.sleep(0.3)
    assert client.get(f"/api/v1/gan-lab/sessions/{s['id']}").json()["steps"] == paused["steps"]
    assert control(client, s["id"], "reset")["steps"] == 0
    assert client.delete(f"/api/v1/gan-lab/sessions/{s['id']}").status_code == 204
    gone = client.get(f"/api/v1/gan-lab/sessions/{s['id']}")
    assert gone.status_code == 404 and "Start a new one" in gone.json()["detail"]


def test_same_settings_and_seed_train_the_same_way(client) -> None:
    runs = [
        control(client, start(client, data="moons", cost="saturating", k=2, seed=7)["id"], "step", 10) for _ in range(2)
    ]
    assert runs[0]["history"] == runs[1]["history"] and runs[0]["fake_points"] == runs[1]["fake_points"]


def test_a_tiny_mnist_gan_draws_a_grid_of_digits(client) -> None:
    s = control(client, start(client, data="mnist", optimizer="sgd", lr_g=0.01, lr_d=0.01)["id"], "step", 3)
    grid = client.get(s["samples"]["url"])
    assert grid.status_code == 200 and s["samples"]["width"] == 112 and s["real_points"] is None


@pytest.mark.parametrize(
    "config, words",
    [
        ({"data": "spiral"}, "data"),
        ({"k": 0}, "k"),
        ({"lr_g": 1.0}, "lr_g"),
        ({"cost": "hinge"}, "cost"),
        ({"batch_size": 4}, "batch_size"),
        ({"steps": 3}, "steps"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(client, config, words) -> None:
    r = client.post("/api/v1/gan-lab/sessions", json=config)
    assert r.status_code == 422 and words in r.json()["detail"]


def test_unknown_action_and_session(client) -> None:
    s = start(client)
    r = client.post(f"/api/v1/gan-lab/sessions/{s['id']}/control", json={"action": "explode"})
    assert r.status_code == 422 and "play, pause, step or reset" in r.json()["detail"]
    assert client.get("/api/v1/gan-lab/sessions/nope").status_code == 404


def test_sessions_are_capped_and_idle_ones_end(settings) -> None:
    small = Settings(**{**settings.model_dump(), "gan_lab_sessions": 1, "gan_lab_idle_s": 1.0})
    with TestClient(create_app(small)) as c:
        first = start(c)
        full = c.post("/api/v1/gan-lab/sessions", json={})
        assert full.status_code == 503 and full.headers["Retry-After"] and "slots" in full.json()["detail"]
        time.sleep(2.5)  # nobody polls: the page was closed
        assert c.get(f"/api/v1/gan-lab/sessions/{first['id']}").status_code == 404
        start(c)  # the slot is free again


def test_the_lab_page_starts_a_session_and_shows_it(client) -> None:
    page = client.get("/gan/lab")
    assert page.status_code == 200 and "Why the saturating cost stalls" in page.text
    r = client.post("/gan/lab", data={"data": "grid", "cost": "saturating", "k": "3"}, follow_redirects=False)
    assert r.status_code == 303
    session_page = client.get(r.headers["location"])
    assert "grid · saturating · k = 3" in session_page.text and "lab-scatter" in session_page.text
    live = client.get(r.headers["location"], headers={"HX-Request": "true"})
    assert live.status_code == 200 and "<h1>" not in live.text and "step" in live.text
    sid = r.headers["location"].rsplit("/", 1)[1]
    stopped = client.post(f"/gan/lab/{sid}", data={"action": "stop"}, follow_redirects=False)
    assert stopped.status_code == 303
    ended = client.get(f"/gan/lab/{sid}", headers={"HX-Request": "true"})
    assert ended.status_code == 286 and "Start a new session" in ended.text  # 286: htmx stops polling


def test_a_short_run_changes_the_generator(client) -> None:
    fresh = start(client, data="ring", seed=11)
    trained = control(client, fresh["id"], "step", 20)
    moved = [abs(a - b) + abs(c - d) for (a, c), (b, d) in zip(fresh["fake_points"], trained["fake_points"])]
    assert min(moved) > 0 and sum(moved) / len(moved) > 0.01  # every generated point has moved
    assert trained["decision_map"]["id"] != fresh["decision_map"]["id"]  # and so has D's verdict


def preset_query(slug: str) -> dict:
    url = next(p.url for p in PRESETS if p.slug == slug)
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_saturating_preset_shows_what_it_says(client) -> None:
    """The preset's settings and seed, both costs: the saturating run's gradient vanishes (D(G(z)) ≈ 0)
    and its samples stay put, the non-saturating run at the same settings learns and reaches the ring."""
    query = preset_query("gan-saturating")
    steps = query.pop("steps")
    open_before = set(client.app.state.components.gan_lab.sessions)  # other tests' sessions may still idle
    r = client.post("/api/v1/gan-lab/compare", params={"steps": steps}, json=LabConfig(**query).model_dump())
    assert r.status_code == 200, r.text
    sat, nonsat = r.json()["runs"]
    assert (sat["cost"], nonsat["cost"]) == ("saturating", "non-saturating")
    assert sat["state"]["steps"] == nonsat["state"]["steps"] == int(steps)
    assert sat["grad_median"] < 1e-3 and nonsat["grad_median"] > 1  # at least a thousand times smaller
    assert sat["grad_median"] * 1000 < nonsat["grad_median"]
    assert sat["d_fake"] < 1e-3 and nonsat["d_fake"] > 0.01
    assert sat["distance_start"] == nonsat["distance_start"]  # the same players at step 0
    assert sat["distance_end"] > 0.9 * sat["distance_start"]  # barely moved
    assert nonsat["distance_end"] < 0.25 * nonsat["distance_start"]  # onto the ring
    assert set(client.app.state.components.gan_lab.sessions) <= open_before  # both slots are free again


def test_the_saturating_preset_opens_the_comparison(client) -> None:
    url = next(p.url for p in PRESETS if p.slug == "gan-saturating")
    page = client.get(url)
    assert page.status_code == 200 and 'id="compare-numbers"' in page.text
    assert "compare-scatter-saturating" in page.text and "compare-scatter-non-saturating" in page.text
    grad_chart = page.text.split("Norm of the generator")[1].split("</svg>")[0]
    assert 'class="line sat"' in grad_chart and 'class="line nonsat"' in grad_chart and ">1e-4<" in grad_chart
    live = re.findall(r'href="(/gan/lab\?[^"]+)"', page.text)
    assert any("cost=saturating" in u for u in live) and any("cost=non-saturating" in u for u in live)
    assert client.get("/gan/lab/compare", params={"steps": 501}).status_code == 422


def test_a_log_axis_spans_whole_decades_and_drops_what_it_cannot_place() -> None:
    chart = line_chart({"a": [(0, 1e-4), (1, 0.0), (2, 12.0)]}, log_y=True)
    assert (chart.y.lo, chart.y.hi) == (-4, 2) and len(chart.lines["a"].split()) == 2
    assert [t for _, t in chart.y.ticks()] == ["1e-4", "0.001", "0.01", "0.1", "1", "10", "100"]


def test_a_room_opening_the_comparison_shares_one_run(client) -> None:
    """The comparison is deterministic: asked again with the same settings it is served from the
    kept results, not trained again."""
    query = {**preset_query("gan-saturating"), "steps": "40"}
    results = client.app.state.components.results
    first = client.get("/gan/lab/compare", params=query)
    computed = results.stats["computed"]
    again = client.get("/gan/lab/compare", params=query)
    assert first.status_code == again.status_code == 200
    assert results.stats["computed"] == computed and first.text == again.text
