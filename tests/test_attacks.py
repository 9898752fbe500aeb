"""Invariants over the attack registry, and FGSM/PGD against plain independent implementations."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from app.attacks import ATTACKS, Goal
from app.attacks.run import run_attack
from app.errors import BadRequest, DeadlineExceeded

# Small settings so that the shipped attacks run quickly on a few digits; an attack not named here
# runs with quick_settings() (its defaults, with at most 5 of anything counted in steps or rounds).
QUICK = {
    "fgsm": {"eps": 0.2},
    "bim": {"eps": 0.2, "alpha": 0.05, "steps": 5},
    "pgd": {"eps": 0.2, "alpha": 0.05, "steps": 5},
    "pgd-l2": {"eps": 2.0, "alpha": 0.5, "steps": 5},
    "mifgsm": {"eps": 0.2, "alpha": 0.05, "steps": 5},
    "proximity": {"steps": 10},
    "fooling-noise": {"steps": 10},
    "cw": {"steps": 10, "search_steps": 2},
    "deepfool": {"steps": 10},
    "jsma": {"gamma": 0.02},
}
BALL = {"linf": "linf", "l2": "l2"}  # which Params.eps bounds which distance


@pytest.fixture(scope="module")
def digits(components):
    """Four gallery digits as (4, 1, 28, 28) pixels and their labels."""
    from app.media import imaging

    picks = [s for s in components.gallery.samples if s.kind == "digit"][::25]
    x = torch.stack([imaging.image_to_tensor(components.gallery.image(s.id).convert("L")) for s in picks])
    return x, torch.tensor([s.label for s in picks])


@pytest.fixture(scope="module")
def mlp(components):
    return components.zoo.model("mnist-mlp")[1]


def quick_settings(name: str) -> dict:
    if name in QUICK:
        return QUICK[name]
    fields = ATTACKS[name].Params.model_fields
    return {k: min(f.default, 5) for k, f in fields.items() if k in ("steps", "search_steps", "restarts")}


def run(name, model, x, y, target=None, seed=0, **overrides):
    attack = ATTACKS[name]
    params = attack.Params(**{**quick_settings(name), **overrides})
    return run_attack(attack, model, x, y, target, params, seed=seed)


def goals(name):
    attack = ATTACKS[name]
    return [g for g, ok in (("untargeted", attack.supports_untargeted), ("targeted", attack.supports_targeted)) if ok]


@pytest.mark.parametrize("name", list(ATTACKS))
def test_shape_range_ball_and_determinism(name, mlp, digits) -> None:
    x, y = digits
    for goal in goals(name):
        target = (y + 1) % 10 if goal == "targeted" else None
        a = run(name, mlp, x, y, target, seed=3)
        assert a.adversarial.shape == x.shape
        assert a.adversarial.min() >= 0 and a.adversarial.max() <= 1
        defaults = {k: f.default for k, f in ATTACKS[name].Params.model_fields.items()}
        eps = {**defaults, **quick_settings(name)}.get("eps")
        if eps is not None:
            assert float(a.distances[BALL[ATTACKS[name].norm]].max()) <= eps + 1e-5
        b = run(name, mlp, x, y, target, seed=3)
        assert torch.equal(a.adversarial, b.adversarial), "same inputs and seed must give the same result"
        assert a.trajectory and a.trajectory[-1]["step"] == a.steps and a.snapshots[-1][0] == a.steps


@pytest.mark.parametrize("name", [n for n, a in ATTACKS.items() if "eps" in a.Params.model_fields])
def test_eps_zero_returns_the_input(name, mlp, digits) -> None:
    x, y = digits
    assert torch.equal(run(name, mlp, x, y, eps=0.0).adversarial, x)


@pytest.fixture(scope="module")
def mlp64(mlp):
    """A float64 copy: the plain reference below needs no care about float32 saturation."""
    return copy.deepcopy(mlp).double()


def plain_gradient(model, x, classes):
    xr = x.double().clone().requires_grad_(True)
    F.cross_entropy(model(xr), classes, reduction="sum").backward()
    return xr.grad


def test_fgsm_equals_a_plain_implementation(mlp, mlp64, digits) -> None:
    x, y = digits
    target = (y + 1) % 10
    for eps in (0.05, 0.2):
        plain = (x.double() + eps * plain_gradient(mlp64, x, y).sign()).clamp(0, 1)
        assert torch.allclose(run("fgsm", mlp, x, y, eps=eps).adversarial.double(), plain, atol=1e-6)
        plain = (x.double() - eps * plain_gradient(mlp64, x, target).sign()).clamp(0, 1)
        assert torch.allclose(run("fgsm", mlp, x, y, target, eps=eps).adversarial.double(), plain, atol=1e-6)


def test_pgd_equals_a_plain_implementation(mlp, mlp64, digits) -> None:
    x, y = digits
    eps, alpha, steps = 0.2, 0.03, 7
    x64 = x.double()
    plain = x64.clone()
    for _ in range(steps):
        plain = plain + alpha * plain_gradient(mlp64, plain, y).sign()
        plain = torch.min(torch.max(plain, x64 - eps), x64 + eps).clamp(0, 1)
    ours = run("pgd", mlp, x, y, eps=eps, alpha=alpha, steps=steps, random_start=False).adversarial
    assert torch.allclose(ours.double(), plain, atol=1e-5)


def test_the_loss_gradient_stays_exact_on_confident_digits(mlp, mlp64, digits) -> None:
    """F.cross_entropy in float32 loses the true class's term (p_y − 1 rounds to 0); ours keeps it."""
    from app.attacks.base import cross_entropy

    x, y = digits
    xr = x.clone().requires_grad_(True)
    cross_entropy(mlp(xr), y).sum().backward()
    reference = plain_gradient(mlp64, x, y)
    error = (xr.grad.double() - reference).flatten(1).norm(dim=1) / reference.flatten(1).norm(dim=1)
    assert float(error.max()) < 1e-4


def test_random_start_follows_the_seed(mlp, digits) -> None:
    x, y = digits
    a, b = run("pgd", mlp, x, y, seed=1), run("pgd", mlp, x, y, seed=2)
    assert not torch.equal(a.adversarial, b.adversarial)


def test_targeted_pgd_reaches_the_target(components, digits) -> None:
    cnn = components.zoo.model("mnist-cnn")[1]
    x, y = digits
    target = (y + 3) % 10
    out = run_attack(ATTACKS["pgd"], cnn, x, y, target, ATTACKS["pgd"].Params(), seed=0)
    assert out.success.all() and torch.equal(out.probs_after.argmax(1), target)


@pytest.mark.parametrize("name", ["cw", "deepfool"])
def test_minimal_attacks_succeed_with_small_l2(name, components, digits) -> None:
    cnn = components.zoo.model("mnist-cnn")[1]
    x, y = digits
    out = run_attack(ATTACKS[name], cnn, x, y, None, ATTACKS[name].Params(), seed=0)
    assert out.success.all() and float(out.distances["l2"].max()) < 4.0


def test_jsma_changes_few_pixels(components, digits) -> None:
    cnn = components.zoo.model("mnist-cnn")[1]
    x, y = digits
    out = run_attack(ATTACKS["jsma"], cnn, x[:2], y[:2], (y[:2] + 1) % 10, ATTACKS["jsma"].Params(), seed=0)
    assert out.success.all() and float(out.distances["l0"].max()) <= 0.15 * 784


def test_refusals_say_why(mlp, digits) -> None:
    x, y = digits
    with pytest.raises(BadRequest, match="needs a target"):
        run("fooling-noise", mlp, x, y)
    with pytest.raises(BadRequest, match="thousands of steps"):
        ATTACKS["jsma"].check(torch.rand(1, 3, 64, 64), Goal(y[:1], (y[:1] + 1) % 10))


def test_time_limit_stops_the_attack(mlp, digits) -> None:
    x, y = digits
    attack = ATTACKS["pgd"]
    with pytest.raises(DeadlineExceeded, match="limit"):
        run_attack(attack, mlp, x, y, None, attack.Params(steps=1000), time_limit=0.0)


@pytest.mark.parametrize(
    "name, params",
    [
        ("fgsm", {"eps": 0.2}),
        ("bim", QUICK["bim"]),
        ("pgd", QUICK["pgd"]),
        ("pgd", {**QUICK["pgd"], "random_start": False}),
    ],
)
def test_before_predictions_are_the_models_on_the_start(name, params, components, digits) -> None:
    """FGSM and a first step without a random start reuse their forward pass for "before"; the
    others pay for one more. Either way it is the model's answer on the image attacked."""
    model = components.zoo.model("mnist-cnn")[1]
    x, y = digits
    out = run_attack(ATTACKS[name], model, x, y, None, ATTACKS[name].Params(**params), seed=0)
    with torch.no_grad():
        expected = torch.softmax(model(out.start), dim=1)
    assert torch.allclose(out.probs_before, expected, atol=1e-5)
    assert torch.equal(out.start, x)
