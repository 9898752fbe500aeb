"""FGSM as a sweep over ε (POST /api/v1/attacks/fgsm/sweep) over HTTP with the real zoo: every
position equals what POST /api/v1/attacks/fgsm returns for that ε, pixels and predictions."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import SQUEEZENET
from PIL import Image

from app.schemas.attacks import MAX_SWEEP_EPS

DIGIT = "sample:mnist-00003"  # a 0


def sweep(client, **body):
    return client.post("/api/v1/attacks/fgsm/sweep", json={"model": "mnist-cnn", "image": DIGIT, **body})


def pixels(client, url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(client.get(url).content)))


def composite(original: np.ndarray, sign_png: np.ndarray, eps: float) -> np.ndarray:
    """What the page draws: clip(x + ε·s) in float32, saved to 8 bits toward the original (whole
    1/255 steps of the change kept, up to float error)."""
    s = np.select([sign_png == 0, sign_png == 255], [-1.0, 1.0], 0.0).astype(np.float32)
    x = original.astype(np.float32) / np.float32(255)
    change = np.clip(x + np.float32(eps) * s, 0, 1) * np.float32(255) - original.astype(np.float32)
    steps = np.sign(change) * np.floor(np.abs(change) + np.float32(2.0**-12))
    return (original + steps).astype(np.uint8)


@pytest.mark.parametrize(
    "model,image,target",
    [
        ("mnist-cnn", DIGIT, None),
        ("mnist-cnn", DIGIT, 3),
        ("fashion-cnn", "sample:mnist-00000", None),
        pytest.param(
            "imagenet-squeezenet",
            "sample:chelsea",
            None,
            marks=pytest.mark.skipif(not SQUEEZENET.exists(), reason="needs the local ImageNet weights"),
        ),
    ],
)
def test_every_position_equals_the_fgsm_answer(client, model, image, target) -> None:
    r = sweep(client, model=model, image=image, target=target)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["steps"]) >= 31 and body["steps"][0]["eps"] == 0
    original, sign = pixels(client, body["original"]["url"]), pixels(client, body["sign"]["url"])
    assert set(np.unique(sign)) <= {0, 128, 255}
    for step in body["steps"][1::9]:
        one = client.post(
            "/api/v1/attacks/fgsm",
            json={"model": model, "image": image, "target": target, "params": {"eps": step["eps"]}},
        ).json()
        assert np.array_equal(composite(original, sign, step["eps"]), pixels(client, one["adversarial"]["url"]))
        assert [p["index"] for p in step["predictions"]] == [p["index"] for p in one["after"]]
        assert np.allclose([p["prob"] for p in step["predictions"]], [p["prob"] for p in one["after"]], atol=1e-4)
        assert step["success"] == one["success"] and step["norms"]["l0"] == one["norms"]["l0"]
        assert step["survives_saving"]["success"] == one["survives_saving"]["success"]
        assert abs(step["norms"]["linf"] - one["norms"]["linf"]) < 1e-6
    assert body["before"][0]["index"] == one["before"][0]["index"]


def test_the_sweep_fools_the_model_somewhere_and_is_monotone_in_linf(client) -> None:
    steps = sweep(client).json()["steps"]
    assert not steps[0]["success"] and steps[0]["norms"]["l0"] == 0 and steps[0]["norms"]["psnr"] is None
    assert any(s["success"] for s in steps), "FGSM up to ε = 0.5 fools mnist-cnn on this digit"
    linf = [s["norms"]["linf"] for s in steps]
    assert linf == sorted(linf)


def test_chosen_eps_values_and_their_limits(client) -> None:
    body = sweep(client, eps=[0.0, 0.05, 0.3], target="7").json()
    assert [s["eps"] for s in body["steps"]] == [0.0, 0.05, 0.3] and body["target_label"] == "7"
    assert sweep(client, eps=[0.1] * (MAX_SWEEP_EPS + 1)).status_code == 422
    too_big = sweep(client, eps=[0.1, 1.5])
    assert too_big.status_code == 422 and "between 0 and 1" in too_big.json()["detail"]
    assert sweep(client, eps=[]).status_code == 422
    assert sweep(client, target=10).status_code == 422
    assert sweep(client, image="sample:nope").status_code == 404


def test_repeat_requests_share_one_computation(client, components) -> None:
    first = sweep(client, eps=[0.0, 0.2], seed=1).json()
    runs = components.executor.stats["runs"]
    again = sweep(client, eps=[0.0, 0.2], seed=2).json()
    assert components.executor.stats["runs"] == runs, "the second identical sweep ran the model again"
    assert again["seed"] == 2 and {**again, "seed": 1} == first


def test_a_misspelt_class_gets_a_suggestion(client) -> None:
    if not SQUEEZENET.exists():
        pytest.skip("needs the local ImageNet weights")
    r = sweep(client, model="imagenet-squeezenet", image="sample:chelsea", target="toastr")
    assert r.status_code == 422 and "Did you mean 'toaster'" in r.json()["detail"]
