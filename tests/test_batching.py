"""Batching, disconnects and backpressure against a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

DIGITS = [f"sample:mnist-{i:05d}" for i in (3, 2, 1, 18, 4, 8, 11, 0)]


def fgsm_body(i: int) -> dict:
    return {"model": "mnist-cnn", "image": DIGITS[i % len(DIGITS)], "params": {"eps": round(0.05 + 0.03 * i, 3)}}


async def concurrently(url: str, bodies: list[dict]) -> list[dict]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        replies = await asyncio.gather(*(c.post("/api/v1/attacks/fgsm", json=b) for b in bodies))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies if r.status_code != 200]
    return [r.json() for r in replies]


def essentials(result: dict) -> tuple:
    """What must not depend on batching: the pictures, the answers and their order, the distances.

    Probabilities are compared separately: a batched convolution adds in another order, which can
    move the 6th decimal."""
    labels = lambda preds: [p["label"] for p in preds]
    saved = result["survives_saving"]
    return (
        result["adversarial"]["id"],
        result["perturbation"]["id"],
        labels(result["after"]),
        labels(result["before"]),
        result["success"],
        result["norms"],
        [s["step"] for s in result["trajectory"]],
        [s["image"]["id"] for s in result["snapshots"]],
        saved["success"],
        labels(saved["predictions"]),
        saved["changed_values"],
    )


def probabilities(result: dict) -> list[float]:
    return [p["prob"] for key in ("before", "after") for p in result[key]] + [
        p["prob"] for p in result["survives_saving"]["predictions"]
    ]


def test_batched_fgsm_requests_get_what_they_would_alone(live_server) -> None:
    bodies = [fgsm_body(i) for i in range(12)]
    together = asyncio.run(concurrently(live_server, bodies))
    assert httpx.get(f"{live_server}/healthz").json()["executor"]["largest_batch"] > 1  # they did share
    with httpx.Client(base_url=live_server, timeout=60) as c:
        alone = [c.post("/api/v1/attacks/fgsm", json=b).json() for b in bodies]
    assert [essentials(r) for r in together] == [essentials(r) for r in alone]
    for a, b in zip(together, alone):
        assert probabilities(a) == pytest.approx(probabilities(b), abs=5e-6)
    assert [r["params"]["eps"] for r in together] == [b["params"]["eps"] for b in bodies]


def test_a_client_that_leaves_stops_its_attack(live_server) -> None:
    """A long PGD on the ImageNet model; the client gives up after a second. The work stops at
    the attack's next step, so the queue is empty long before the attack would have finished."""
    body = {"model": "mnist-cnn", "image": DIGITS[0], "params": {"steps": 1000, "restarts": 10, "alpha": 0.001}}
    try:
        httpx.post(f"{live_server}/api/v1/attacks/pgd", json=body, timeout=1.0)
    except httpx.TimeoutException:
        pass
    deadline = time.monotonic() + 5
    while httpx.get(f"{live_server}/healthz").json()["queue"] > 0:
        assert time.monotonic() < deadline, "the abandoned attack kept running"
        time.sleep(0.1)


def test_health_answers_while_the_queue_is_full(live_server) -> None:
    async def main():
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
            body = {"model": "mnist-cnn", "image": DIGITS[0], "params": {"steps": 10}}
            flood = [asyncio.ensure_future(c.post("/api/v1/attacks/pgd", json={**body, "seed": s})) for s in range(80)]
            await asyncio.sleep(1.0)
            health = await c.get("/healthz")
            replies = await asyncio.gather(*flood)
            return health, replies

    health, replies = asyncio.run(main())
    assert health.status_code == 200
    codes = {r.status_code for r in replies}
    assert codes <= {200, 503}, codes
    busy = [r for r in replies if r.status_code == 503]
    assert busy and all(r.headers["Retry-After"] and "busy" in r.json()["detail"] for r in busy)
