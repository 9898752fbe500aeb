"""The linear toy of seeds 002/004: its numbers, its invariants, the API and the page."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.explain import linear, plot
from app.schemas.explain import LinearToyRequest
from app.services.explain import linear_toy

HX = {"HX-Request": "true"}
SEED = dict(w=np.array(linear.SEED_W), x=np.array(linear.SEED_X), b=linear.SEED_B)


def test_the_seed_example_computed_afresh() -> None:
    """w.x = -4 (seed 004 says so too), so y = sigmoid(-4) = 0.018 before the step. The lecture notes
    print 0.27 there, which would need w.x = -1: a misprint. Their 0.83 after x + 0.2 w does come out."""
    before = linear.logit(**SEED)
    after = linear.along_w(**SEED, eps=0.2)
    assert before == -4.0
    assert linear.sigmoid(before) == pytest.approx(1 / (1 + math.exp(4)))
    assert round(linear.sigmoid(before), 3) == 0.018
    assert after.z == pytest.approx(-4 + 0.2 * 28)  # ||w||_2^2 = 1 + 9 + 1 + 4 + 4 + 9
    assert round(after.y, 2) == 0.83


def test_epsilon_zero_changes_nothing() -> None:
    for step in (linear.along_w(**SEED, eps=0.0), linear.along_sign(**SEED, eps=0.0)):
        assert np.array_equal(step.x, SEED["x"])
        assert step.change == 0 and step.max_input_change == 0
        assert step.y == linear.sigmoid(linear.logit(**SEED))


def test_the_sign_step_moves_the_logit_by_eps_times_the_l1_norm() -> None:
    # dyadic numbers: every operation is exact in float64, so the equality is too
    exact = linear.along_sign(np.array([0.5, -2.0, 1.25]), np.array([1.0, 0.25, -3.0]), 0.75, eps=0.125)
    assert exact.change == 0.125 * (0.5 + 2.0 + 1.25)
    assert exact.max_input_change == 0.125
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=64), rng.uniform(size=64)
    step = linear.along_sign(w, x, 0.3, eps=0.07)
    assert step.change == pytest.approx(0.07 * np.abs(w).sum(), rel=1e-12)
    assert np.abs(step.x - x).max() == pytest.approx(0.07)


def test_the_sign_step_beats_any_other_step_of_the_same_size() -> None:
    rng = np.random.default_rng(1)
    w, x = rng.normal(size=20), rng.normal(size=20)
    best = linear.along_sign(w, x, 0.0, eps=0.1).change
    for _ in range(200):
        other = linear.step(w, x, 0.0, rng.uniform(-0.1, 0.1, size=20)).change
        assert other <= best


def test_sigmoid_is_stable_for_huge_logits() -> None:
    assert linear.sigmoid(1e6) == 1.0 and linear.sigmoid(-1e6) == 0.0 and linear.sigmoid(0.0) == 0.5


def test_the_aligned_change_grows_like_n_and_the_random_one_like_its_root() -> None:
    w = np.array(linear.SEED_W)
    ns = np.array([6, 600, 60000])
    aligned, random = linear.dimension_series(w, 0.2, ns)
    assert aligned[0] == pytest.approx(0.2 * np.abs(w).sum())  # n = len(w): the toy itself
    assert aligned[1:] / aligned[:-1] == pytest.approx([100, 100])
    assert random[1:] / random[:-1] == pytest.approx([10, 10])


def test_the_response_has_the_series_and_the_dataset_markers() -> None:
    r = linear_toy(LinearToyRequest())
    assert [m.n for m in r.markers] == [784, 3072, 150528]
    assert r.series[0].n == 1 and r.series[-1].n == 150528
    assert all(a.aligned < b.aligned for a, b in zip(r.series, r.series[1:]))
    mnist = r.markers[0]
    # w repeated: 130 whole copies of |w| (sum 12) and then |1|, |3|, |-1|, |2|
    assert mnist.aligned == pytest.approx(0.2 * (130 * 12 + 1 + 3 + 1 + 2))


def test_the_loglog_plot_stays_inside_its_box() -> None:
    ns = [1, 10, 100, 1000]
    p = plot.loglog(ns, {"a": [0.5, 5, 50, 500], "b": [0.5, 1.6, 5, 16]}, [("here", 100, 50)], width=400, height=200)
    points = [tuple(map(float, xy.split(","))) for line in p.lines.values() for xy in line.split()]
    assert len(points) == 8
    assert all(p.x.start <= x <= p.x.end and p.y.end <= y <= p.y.start for x, y in points)
    assert [label for _, label in p.x.ticks()] == ["1", "10", "100", "1,000"]
    assert p.y.ticks()[0][1] == "0.1" and p.markers[0]["label"] == "here"


def test_the_loglog_plot_of_nothing_is_none() -> None:
    assert plot.loglog([1, 10], {"a": [0.0, 0.0]}, []) is None


# --- API -----------------------------------------------------------------------------------------


def test_api_defaults_are_the_seed_example(client) -> None:
    r = client.post("/api/v1/linear-toy", json={})
    assert r.status_code == 200
    body = r.json()
    assert body["before"]["z"] == -4 and round(body["along_w"]["y_hat"], 2) == 0.83
    assert body["along_sign"]["change"] == pytest.approx(0.2 * 12)
    assert body["w_l1"] == 12


def test_api_takes_its_own_numbers(client) -> None:
    r = client.post("/api/v1/linear-toy", json={"w": [2, -1], "x": [0.5, 0.5], "b": -0.5, "eps": 0.5})
    body = r.json()
    assert body["before"]["z"] == pytest.approx(0.0) and body["before"]["y_hat"] == pytest.approx(0.5)
    assert body["along_sign"]["x"] == [1.0, 0.0] and body["along_sign"]["change"] == pytest.approx(1.5)


@pytest.mark.parametrize(
    "body, words",
    [
        ({"w": [1, 2], "x": [1]}, "same number of entries"),
        ({"w": list(range(65)), "x": list(range(65))}, "at most 64"),
        ({"w": [], "x": []}, "at least 1"),
        ({"eps": 1.5}, "eps"),
        ({"eps": -0.1}, "eps"),
        ({"w": [1e9], "x": [1]}, "1000"),
        ({"w": ["one"], "x": [1]}, "number"),
    ],
)
def test_api_refuses_bad_input_with_a_message(client, body, words) -> None:
    r = client.post("/api/v1/linear-toy", json=body)
    assert r.status_code == 422 and words in r.json()["detail"]


def test_api_refuses_nan(client) -> None:
    r = client.post(
        "/api/v1/linear-toy", content=b'{"w": [NaN], "x": [1]}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422


# --- page ----------------------------------------------------------------------------------------


def test_page_shows_the_seed_example_and_the_plot(client) -> None:
    html = client.get("/linear").text
    assert "<html" in html and '<form id="toy"' in html and 'method="get" action="/linear"' in html
    assert 'id="y-before">0.018<' in html and 'id="y-along-w">0.832<' in html
    assert "<svg" in html and "<polyline" in html and "ImageNet 224×224×3" in html
    assert 'hx-trigger="change, input delay:300ms"' in html and 'hx-push-url="true"' in html


def test_page_with_a_query_string_is_a_permalink(client) -> None:
    params = {"w": "1, -1", "x": "0.5, 0.5", "b": "0", "eps": "0.25"}
    first, second = client.get("/linear", params=params), client.get("/linear", params=params)
    assert first.status_code == 200 and first.text == second.text
    assert 'value="1, -1"' in first.text and 'id="y-along-sign">0.622<' in first.text  # sigmoid(0.5)


def test_page_as_htmx_returns_the_result_block(client) -> None:
    html = client.get("/linear", params={"eps": "0.5"}, headers=HX).text
    assert "<html" not in html and '<form id="toy"' not in html and 'id="y-along-w"' in html
    assert 'id="eps-value" for="eps" hx-swap-oob="true">0.50<' in html
    assert 'id="messages" hx-swap-oob="true"' in html


def test_page_with_epsilon_zero_says_nothing_moves(client) -> None:
    html = client.get("/linear", params={"eps": "0"}).text
    assert "nothing moves" in html and "<svg" not in html
    assert 'id="y-before">0.018<' in html and 'id="y-along-w">0.018<' in html


@pytest.mark.parametrize(
    "params, words",
    [
        ({"w": "1, 2, three", "x": "1, 2, 3"}, "three&#39; is not a number"),
        ({"w": "1, 2", "x": "1"}, "same number of entries"),
        ({"eps": "2"}, "eps"),
        ({"w": "nan", "x": "1"}, "finite"),
    ],
)
def test_page_refuses_bad_input_with_a_message(client, params, words) -> None:
    r = client.get("/linear", params=params)
    assert r.status_code == 422 and "<html" in r.text and words in r.text
    r = client.get("/linear", params=params, headers=HX)
    assert r.status_code == 422 and r.headers["HX-Retarget"] == "#messages" and words in r.text
