"""Property tests (Hypothesis): attack invariants on random small inputs, and the latent operations.

tests/test_attacks.py checks the invariants on four fixed digits with fixed settings; here the
inputs (noise, digits, all-black and all-white pictures), epsilons, step sizes, targets and seeds
are drawn at random, on the real mnist-cnn. Examples are few and tiny so the file stays fast.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.attacks import ATTACKS
from app.attacks.run import run_attack
from app.gan.latent import arithmetic, latent, latents, lerp, slerp

FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Attacks with a budget ε, by the norm each declares (a new attack is picked up from the registry).
def budgeted(norm: str) -> list[str]:
    return [name for name, attack in ATTACKS.items() if attack.norm == norm and "eps" in attack.Params.model_fields]


LINF, L2 = budgeted("linf"), budgeted("l2")


@pytest.fixture(scope="module")
def cnn(components):
    return components.zoo.model("mnist-cnn")[1]


@pytest.fixture(scope="module")
def digits(components):
    """(100, 1, 28, 28) gallery digits in [0,1]."""
    from app.media import imaging

    picks = [s for s in components.gallery.samples if s.kind == "digit"]
    return torch.stack([imaging.image_to_tensor(components.gallery.image(s.id).convert("L")) for s in picks])


# --- strategies ------------------------------------------------------------------------------------


@st.composite
def images(draw, digits: torch.Tensor):
    """(N, 1, 28, 28) in [0,1], N in 1..2: noise, gallery digits, a digit with noise, or flat
    black/white pictures, where every step pushes against the [0,1] bounds."""
    n = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["noise", "digit", "noisy digit", "black", "white"]))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    picked = digits[torch.randint(len(digits), (n,), generator=g)]
    if kind == "noise":
        return torch.rand(n, 1, 28, 28, generator=g)
    if kind == "noisy digit":
        return (picked + 0.2 * torch.randn(picked.shape, generator=g)).clamp(0, 1)
    if kind in ("black", "white"):
        return torch.full((n, 1, 28, 28), 0.0 if kind == "black" else 1.0)
    return picked


def goals(n: int):
    """(labels, target or None) for n images: random classes, targets different from the labels."""
    labels = st.lists(st.integers(0, 9), min_size=n, max_size=n)
    shifts = st.one_of(st.none(), st.lists(st.integers(1, 9), min_size=n, max_size=n))
    return st.tuples(labels, shifts).map(
        lambda p: (torch.tensor(p[0]), None if p[1] is None else (torch.tensor(p[0]) + torch.tensor(p[1])) % 10)
    )


def small_params(name: str, draw, eps: float | None = None):
    """The attack's Params with random but cheap settings (a handful of steps)."""
    fields = ATTACKS[name].Params.model_fields
    values = {}
    if "eps" in fields:
        values["eps"] = (
            eps
            if eps is not None
            else draw(st.floats(0.0, 0.5 if ATTACKS[name].norm == "linf" else 4.0, allow_nan=False))
        )
    if "alpha" in fields:
        values["alpha"] = draw(st.floats(0.001, 0.2 if ATTACKS[name].norm == "linf" else 1.0))
    if "steps" in fields:
        values["steps"] = draw(st.integers(1, 4))
    if "random_start" in fields:
        values["random_start"] = draw(st.booleans())
    if "restarts" in fields:
        values["restarts"] = draw(st.integers(1, 2))
    if "decay" in fields:
        values["decay"] = draw(st.floats(0.0, 2.0))
    if "search_steps" in fields:
        values["search_steps"] = draw(st.integers(1, 2))
    if "candidates" in fields:
        values["candidates"] = draw(st.integers(2, 10))
    return ATTACKS[name].Params(**values)


def attack_case(draw, name: str, digits: torch.Tensor, eps: float | None = None):
    x = draw(images(digits))
    labels, target = draw(goals(len(x)))
    if not ATTACKS[name].supports_untargeted and target is None:
        target = (labels + 1) % 10
    if not ATTACKS[name].supports_targeted:
        target = None
    return x, labels, target, small_params(name, draw, eps), draw(st.integers(0, 2**31 - 1))


def run(name, model, case):
    x, labels, target, params, seed = case
    return run_attack(ATTACKS[name], model, x, labels, target, params, seed=seed, trace=False)


# --- attacks ---------------------------------------------------------------------------------------

# The size of each perturbation (N, C, H, W) -> (N,) in the attack's norm, and the rounding allowed.
NORMS = {"linf": (lambda d: d.flatten(1).abs().amax(dim=1), 1e-6), "l2": (lambda d: d.flatten(1).norm(dim=1), 1e-5)}


@pytest.mark.parametrize("name", LINF + L2)
def test_attacks_stay_in_the_ball_and_the_pixel_range(name, cnn, digits) -> None:
    size, slack = NORMS[ATTACKS[name].norm]

    @FEW
    @given(st.data())
    def check(data):
        case = attack_case(data.draw, name, digits)
        x, params = case[0], case[3]
        out = run(name, cnn, case)
        on_grid = lambda t: torch.equal(t, t.mul(255).round().div(255))
        # what the attack found, and its downloaded PNG (of a picture, as uploads and the gallery are)
        for adv in (out.adversarial, out.saved) if on_grid(x) else (out.adversarial,):
            assert adv.shape == x.shape
            assert float(size(adv - x).max()) <= params.eps + slack
            assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0
        assert on_grid(out.saved)

    check()


@pytest.mark.parametrize("name", LINF)
def test_eps_zero_returns_the_input_whatever_the_other_settings(name, cnn, digits) -> None:
    @FEW
    @given(st.data())
    def check(data):
        case = attack_case(data.draw, name, digits, eps=0.0)
        assert torch.equal(run(name, cnn, case).adversarial, case[0])

    check()


@pytest.mark.parametrize("name", list(ATTACKS))
def test_the_same_seed_gives_the_same_result(name, cnn, digits) -> None:
    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def check(data):
        case = attack_case(data.draw, name, digits)
        first, again = run(name, cnn, case), run(name, cnn, case)
        assert first.adversarial.shape == case[0].shape
        assert 0.0 <= float(first.adversarial.min()) and float(first.adversarial.max()) <= 1.0
        assert torch.equal(first.adversarial, again.adversarial)

    check()


# --- latent operations -----------------------------------------------------------------------------

sizes = st.integers(2, 16)
floats = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def vectors(draw, count: int):
    nz = draw(sizes)
    return [torch.tensor(draw(st.lists(floats, min_size=nz, max_size=nz))) for _ in range(count)]


@FEW
@given(vectors(2), st.integers(2, 12))
def test_lerp_and_slerp_start_and_end_at_the_ends(ab, steps) -> None:
    a, b = ab
    for path in (lerp(a, b, steps), slerp(a, b, steps)):
        assert path.shape == (steps, a.numel())
        assert torch.allclose(path[0], a, atol=1e-4) and torch.allclose(path[-1], b, atol=1e-4)


@FEW
@given(vectors(2), st.integers(3, 12))
def test_slerp_keeps_the_norm_of_equal_norm_vectors(ab, steps) -> None:
    a, b = ab
    assume(a.norm() > 1e-2 and b.norm() > 1e-2)
    b = b * (a.norm() / b.norm())  # the same length: slerp then walks on the sphere
    assume(abs(float(torch.dot(a, b) / (a.norm() * b.norm()))) < 0.99)  # parallel ones fall back to lerp
    norms = slerp(a, b, steps).norm(dim=1)
    assert torch.allclose(norms, a.norm().expand(steps), rtol=1e-4)


@FEW
@given(st.integers(1, 4), st.integers(1, 4), sizes, st.integers(0, 2**20))
def test_arithmetic_with_a_minus_a_is_the_mean_of_c(n_a, n_c, nz, seed) -> None:
    a = latents(seed, list(range(n_a)), nz)
    c = latents(seed + 1, list(range(n_c)), nz)
    assert torch.allclose(arithmetic(a, a, c), c.mean(0), atol=1e-6)


@FEW
@given(st.integers(0, 2**20), st.integers(0, 1000), st.integers(1, 128))
def test_a_latent_is_a_pure_function_of_seed_and_index(seed, index, nz) -> None:
    z = latent(seed, index, nz)
    assert z.shape == (nz,) and torch.equal(z, latent(seed, index, nz))
    assert torch.equal(latents(seed, [index + 1, index], nz)[1], z)  # whichever grid asks for it
    assert not torch.equal(latent(seed, index + 1, nz), z)
    assert math.isfinite(float(z.norm()))
