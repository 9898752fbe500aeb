"""Robustness curves: accuracy against ε for chosen models under one attack, on the first n test
images of each model's dataset. The undefended and the adversarially trained model on one chart."""

from __future__ import annotations

import threading
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.attacks import ATTACKS
from app.defenses.evaluation import adversarial_examples, correct
from app.errors import BadRequest
from app.media import data
from app.runtime.jobs import Body
from app.zoo import Zoo

BATCH = 100  # images per chunk of work
# The registry's L∞ attacks that can run untargeted from the image within a budget ε: any new one
# is offered by the robustness and transfer experiments without a change here.
LINF_ATTACKS = tuple(
    a.name
    for a in ATTACKS.values()
    if a.norm == "linf" and a.supports_untargeted and not a.starts_from_noise and "eps" in a.Params.model_fields
)


class RobustnessParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] = Field(["mnist-cnn", "mnist-cnn-robust"], min_length=1, max_length=4)
    attack: Literal[LINF_ATTACKS] = "pgd"  # type: ignore[valid-type]
    eps: list[float] = Field([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3], min_length=1, max_length=11)
    n: int = Field(500, ge=1, le=1000, description="Test images per model.")
    steps: int = Field(20, ge=1, le=100, description="Steps of an iterative attack (PGD: 2.5·ε/steps each).")
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @field_validator("eps")
    @classmethod
    def _in_range(cls, values: list[float]) -> list[float]:
        if not all(0 <= v <= 0.5 for v in values):
            raise ValueError("every ε must be between 0 and 0.5")
        return sorted(set(values))


def attack_params(attack: str, eps: float, steps: int) -> dict:
    """The attack's parameters for a budget ε and a number of steps, read from its Params: one step
    of ε without steps; else a step of ε/steps, or 2.5·ε/steps from a random start (Madry et al.)."""
    fields = ATTACKS[attack].Params.model_fields
    if "steps" not in fields:
        return {"eps": eps}
    if "random_start" not in fields:
        return {"eps": eps, "alpha": eps / steps, "steps": steps}
    return {"eps": eps, "alpha": max(2.5 * eps / steps, 1e-4), "steps": steps, "random_start": True}


def run(params: RobustnessParams, zoo: Zoo, data_dir, stop: threading.Event | None = None) -> Body:
    models = [zoo.model(name) for name in params.models]
    total = len(models) * len(params.eps) * params.n
    done, curves = 0, {}
    for entry, model in models:
        x, y = data.load_split(entry.spec.dataset, data_dir, train=False)
        x, y = x[: params.n], y[: params.n]
        curve = []
        for eps in params.eps:
            right = 0
            for start in range(0, params.n, BATCH):
                xb, yb = x[start : start + BATCH], y[start : start + BATCH]
                adv = adversarial_examples(
                    model,
                    xb,
                    yb,
                    params.attack,
                    attack_params(params.attack, eps, params.steps),
                    seed=params.seed + start,
                    batch=BATCH,
                    device=zoo.device,
                    cancel=stop,
                )
                right += int(correct(model, adv, yb, device=zoo.device).sum())
                done += len(xb)
                yield done, total, f"{entry.spec.name}: ε = {eps:g}"
            curve.append([eps, round(right / params.n, 4)])
        curves[entry.spec.name] = curve
    return {"params": params.model_dump(), "curves": curves}


def check_models(zoo: Zoo, names: list[str]) -> None:
    """Curves need a test set: models of MNIST-style datasets only (a 422 otherwise)."""
    for name in names:
        entry = zoo.entry(name)
        if entry.spec.dataset not in data.DATASETS:
            raise BadRequest(
                f"{name} has no test set here ({entry.spec.dataset}); choose MNIST or Fashion-MNIST models."
            )
