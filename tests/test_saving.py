"""What an 8-bit PNG keeps of an adversarial image (app/attacks/saving.py): quantised toward the
original, inside the ε-ball, and for DeepFool and C&W a final step so that the saved file still fools."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.attacks import ATTACKS
from app.attacks.run import run_attack
from app.attacks.saving import saved_pixels
from app.media import data


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31), shape=st.sampled_from([(1, 1, 5, 5), (3, 3, 4, 4)]))
def test_saving_never_moves_a_value_away_from_the_original(seed, shape) -> None:
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randint(0, 256, shape, generator=g).float().div(255)
    x = (x0 + torch.empty(shape).uniform_(-0.2, 0.2, generator=g)).clamp(0, 1)
    saved = saved_pixels(x, x0)
    assert torch.equal(saved, saved.mul(255).round().div(255))  # on the 8-bit grid
    assert bool(((saved - x0).abs() <= (x - x0).abs() + 1e-6).all())  # never further than x
    assert bool(((saved - x).abs() < 1 / 255 + 1e-6).all())  # and less than one step from x
    assert bool(((saved - x0) * (x - x0) >= 0).all())  # in the same direction


def test_whole_steps_are_kept_exactly() -> None:
    """ε = 2/255 in float32 is 1.9999999 steps: float error must not drop a whole step."""
    x0 = torch.full((1, 1, 2, 2), 100 / 255)
    assert torch.equal(saved_pixels(x0 + 2 / 255, x0).mul(255).round(), torch.full_like(x0, 102))
    assert torch.equal(saved_pixels(x0 - 25.5 / 255, x0).mul(255).round(), torch.full_like(x0, 75))


def png(client, url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(client.get(url).content)), dtype=np.int16)


@pytest.mark.parametrize("eps", [0.1, 0.3, 2 / 255])
def test_the_downloaded_fgsm_png_is_inside_the_ball_and_its_norm_is_reported(client, eps) -> None:
    body = client.post(
        "/api/v1/attacks/fgsm", json={"model": "mnist-cnn", "image": "sample:mnist-00010", "params": {"eps": eps}}
    ).json()
    change = png(client, body["adversarial"]["url"]) - png(client, body["original"]["url"])
    assert np.abs(change).max() <= eps * 255 + 1e-3
    assert np.abs(change).max() == int(eps * 255 + 1e-3)  # a whole step is not lost either
    assert body["norms"]["linf"] == pytest.approx(np.abs(change).max() / 255, abs=1e-6)
    assert body["norms"]["l2"] == pytest.approx(np.linalg.norm(change / 255.0), abs=1e-4)


@pytest.fixture(scope="module")
def test_digits(settings):
    x, y = data.load_split("mnist", settings.data_dir, train=False)
    return x[:30], y[:30]


@pytest.mark.parametrize("name,quick", [("deepfool", {}), ("cw", {"steps": 30, "search_steps": 3})])
def test_minimal_attacks_still_fool_once_saved(name, quick, components, test_digits) -> None:
    """Without the final 8-bit step, dropping fractions undoes most DeepFool results (and some of
    C&W's); with it, every success survives saving and none is lost, and the result is the saved image."""
    cnn = components.zoo.model("mnist-cnn")[1]
    x, y = test_digits
    attack = ATTACKS[name]
    plain = run_attack(attack, cnn, x, y, None, attack.Params(**quick, survive_saving=False), trace=False)
    kept = run_attack(attack, cnn, x, y, None, attack.Params(**quick), trace=False)
    survives = lambda o: o.success & (o.probs_saved.argmax(1) != y)
    assert int(survives(plain).sum()) < int(plain.success.sum())
    assert torch.equal(survives(kept), kept.success) and int(kept.success.sum()) >= int(plain.success.sum())
    assert torch.equal(kept.saved, kept.adversarial)
