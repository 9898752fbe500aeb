"""Experiments as jobs over HTTP: robustness curves, the transfer matrix, shortcut learning."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from app.errors import ClientGone
from app.labs.shortcut import BOX, add_hints, hint_position


def run(client, kind: str, params: dict, timeout: float = 240) -> dict:
    r = client.post(f"/api/v1/experiments/{kind}", json=params)
    assert r.status_code in (200, 202), r.text
    job = r.json()
    deadline = time.monotonic() + timeout
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"{kind} did not finish: {job}"
        time.sleep(0.2)
        job = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert job["status"] == "done", job
    return job


def test_robustness_curve_falls_with_epsilon_and_is_cached(client) -> None:
    params = {"models": ["mnist-cnn", "mnist-mlp"], "attack": "fgsm", "eps": [0.3, 0, 0.15], "n": 60}
    job = run(client, "robustness", params)
    curves = job["result"]["curves"]
    assert [e for e, _ in curves["mnist-cnn"]] == [0, 0.15, 0.3]  # sorted
    for curve in curves.values():
        accs = [a for _, a in curve]
        assert accs[0] >= 0.95 and accs[0] > accs[1] > accs[2]
    again = client.post("/api/v1/experiments/robustness", json=params)
    assert again.status_code == 200 and again.json()["id"] == job["id"] and again.json()["result"] == job["result"]
    page = client.get(f"/jobs/{job['id']}")
    assert page.status_code == 200 and "mnist-mlp" in page.text and "<polyline" in page.text


def test_transfer_matrix_has_a_white_box_column(client) -> None:
    job = run(
        client,
        "transfer",
        {"surrogates": ["mnist-mlp"], "targets": ["mnist-cnn"], "attacks": ["pgd"], "eps": [0.3], "n": 50, "steps": 10},
    )
    (row,) = job["result"]["rows"]
    assert set(row["cells"]) == {"mnist-cnn", "mnist-mlp"} and row["cells"]["mnist-mlp"]["white_box"]
    white, black = row["cells"]["mnist-mlp"]["fooling_rate"], row["cells"]["mnist-cnn"]["fooling_rate"]
    assert white >= 0.95 and 0 < black < white  # it transfers, but less than it works on its own model
    assert "heatmap" in client.get(job["url"]).text


def test_shortcut_learning_reads_the_box_not_the_digit(client) -> None:
    job = run(client, "shortcut", {"epochs": 1, "weights": [2], "train_images": 2000})
    plain = job["result"]["models"]["plain"]
    assert plain["validation"]["accuracy"] >= 0.98 and plain["test_with_hints"]["accuracy"] >= 0.98
    assert plain["test"]["accuracy"] < 0.9  # without the hint it falls, as in the seed
    assert set(job["result"]["models"]) == {"plain", "i=2"}


def test_hints_are_one_box_per_class_at_its_own_place() -> None:
    x, y = torch.zeros(10, 1, 28, 28), torch.arange(10)
    hinted = add_hints(x, y)
    assert len({hint_position(c) for c in range(10)}) == 10
    for c in range(10):
        r, col = hint_position(c)
        assert hinted[c, 0, r : r + BOX, col : col + BOX].eq(1).all() and hinted[c].sum() == BOX * BOX


@pytest.mark.parametrize(
    "kind, params, status, words",
    [
        ("robustness", {"n": 5000}, 422, "n"),
        ("robustness", {"eps": [0.9]}, 422, "between 0 and 0.5"),
        ("robustness", {"models": ["nope"]}, 404, "no model"),
        ("robustness", {"models": ["imagenet-squeezenet"]}, 422, "no test set"),
        ("transfer", {"targets": ["fashion-cnn"]}, 422, "not an MNIST"),
        ("transfer", {"attacks": ["cw"]}, 422, "attacks"),
        ("shortcut", {"epochs": 50}, 422, "epochs"),
        ("shortcut", {"bogus": 1}, 422, "bogus"),
        ("nope", {}, 404, "no experiment"),
    ],
)
def test_bad_parameters_are_refused(client, kind, params, status, words) -> None:
    r = client.post(f"/api/v1/experiments/{kind}", json=params)
    assert r.status_code == status and words in r.json()["detail"], r.text


def test_cancel_over_the_api_needs_the_token_and_every_holder(client) -> None:
    params = {"models": ["mnist-cnn"], "n": 1000, "eps": [0.1, 0.2, 0.3], "steps": 100, "seed": 99}
    r = client.post("/api/v1/experiments/robustness", json=params)
    joined = client.post("/api/v1/experiments/robustness", json=params).json()  # another client, same run
    token = r.json()["cancel_token"]
    assert joined["id"] == r.json()["id"] and joined["cancel_token"] not in (None, token)
    url = f"/api/v1/jobs/{r.json()['id']}"
    for header in ({}, {"X-Cancel-Token": "guess"}):
        refused = client.delete(url, headers=header)
        assert refused.status_code == 403 and "cancel_token" in refused.json()["detail"]
    assert client.get(url).json()["cancel_token"] is None  # never given to a poller
    assert client.delete(url, headers={"X-Cancel-Token": joined["cancel_token"]}).json()["status"] in (
        "queued",
        "running",
    )
    job = client.delete(url, headers={"X-Cancel-Token": token}).json()
    deadline = time.monotonic() + 30
    while job["status"] not in ("cancelled", "done"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        job = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert job["status"] == "cancelled"
    assert client.get("/api/v1/jobs/0000").status_code == 404


def test_experiment_pages_render_the_generated_form(client) -> None:
    index = client.get("/experiments")
    assert index.status_code == 200 and "Shortcut learning" in index.text
    page = client.get("/experiments/robustness?n=50&models=mnist-cnn&eps=0,0.1")
    assert page.status_code == 200 and 'name="eps"' in page.text and 'value="0.0, 0.1"' in page.text
    started = client.post(
        "/experiments/shortcut",
        data={"epochs": "1", "weights": "3", "train_images": "1000", "seed": "5"},
        follow_redirects=False,
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/jobs/")
    bad = client.get("/experiments/robustness?n=abc")
    assert bad.status_code == 422 and "n" in bad.text


def test_a_set_stop_event_stops_an_experiment_at_its_first_attack_step(components, settings) -> None:
    """What a cancel reaches: the attack inside a chunk, not only the gap between chunks."""
    from app.labs import robustness

    stop = threading.Event()
    stop.set()
    body = robustness.run(
        robustness.RobustnessParams(models=["mnist-cnn"], n=100, eps=[0.3], attack="pgd", steps=100),
        components.zoo,
        settings.data_dir,
        stop,
    )
    with pytest.raises(ClientGone):
        next(body)


def test_only_the_browser_that_started_a_run_sees_its_cancel_button(client) -> None:
    from fastapi.testclient import TestClient

    form = {"models": "mnist-cnn", "attack": "pgd", "eps": "0.1, 0.2, 0.3", "n": "1000", "steps": "100", "seed": "77"}
    started = client.post("/experiments/robustness", data=form, follow_redirects=False)
    url = started.headers["location"]
    assert 'action="' + url + '/cancel"' in client.get(url).text
    stranger = TestClient(client.app)  # another browser: no cookie
    assert "/cancel" not in stranger.get(url).text
    assert stranger.post(url + "/cancel", follow_redirects=False).status_code == 403
    assert client.post(url + "/cancel", follow_redirects=False).status_code == 303
    assert client.get("/api/v1" + url).json()["status"] in ("cancelled", "running")  # running: until its next step
