"""Transferability (seed 004, the black-box attack): craft adversarial examples on a surrogate model
you own, then see how often they fool target models you never looked inside.

For each surrogate, attack and ε the examples are crafted once; each target's fooling rate is the
share of test digits it classified correctly that the examples make it get wrong. The surrogate's
own column is the white-box reference.
"""

from __future__ import annotations

import threading
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.defenses.evaluation import adversarial_examples, correct
from app.errors import BadRequest
from app.labs.robustness import BATCH, LINF_ATTACKS, attack_params
from app.media import data
from app.runtime.jobs import Body
from app.zoo import Zoo

TransferAttack = Literal[LINF_ATTACKS]  # type: ignore[valid-type]


class TransferParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    surrogates: list[str] = Field(["mnist-mlp"], min_length=1, max_length=3)
    targets: list[str] = Field(["mnist-cnn", "mnist-cnn-robust"], min_length=1, max_length=4)
    attacks: list[TransferAttack] = Field(["fgsm", "pgd", "mifgsm"], min_length=1, max_length=len(LINF_ATTACKS))
    eps: list[float] = Field([0.1, 0.2, 0.3], min_length=1, max_length=6)
    n: int = Field(500, ge=1, le=1000, description="Test digits.")
    steps: int = Field(20, ge=1, le=100, description="Steps of the iterative attacks.")
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @field_validator("eps")
    @classmethod
    def _in_range(cls, values: list[float]) -> list[float]:
        if not all(0 < v <= 0.5 for v in values):
            raise ValueError("every ε must be above 0 and at most 0.5")
        return sorted(set(values))


def run(params: TransferParams, zoo: Zoo, data_dir, stop: threading.Event | None = None) -> Body:
    x, y = data.load_split("mnist", data_dir, train=False)
    x, y = x[: params.n], y[: params.n]
    surrogates = [zoo.model(name) for name in params.surrogates]
    targets = {name: zoo.model(name)[1] for name in dict.fromkeys(params.targets + params.surrogates)}
    clean = {name: correct(m, x, y, device=zoo.device) for name, m in targets.items()}
    total = len(surrogates) * len(params.attacks) * len(params.eps) * params.n
    done, rows = 0, []
    for entry, model in surrogates:
        for attack in params.attacks:
            for eps in params.eps:
                crafted = []
                for start in range(0, params.n, BATCH):
                    budget = attack_params(attack, eps, params.steps)
                    crafted.append(
                        adversarial_examples(
                            model,
                            x[start : start + BATCH],
                            y[start : start + BATCH],
                            attack,
                            budget,
                            seed=params.seed + start,
                            batch=BATCH,
                            device=zoo.device,
                            cancel=stop,
                        )
                    )
                    done += len(crafted[-1])
                    yield done, total, f"crafting {attack} ε = {eps:g} on {entry.spec.name}"
                rows.append(_row(entry.spec.name, attack, eps, crafted, targets, clean, y, zoo))
    return {"params": params.model_dump(), "columns": list(targets), "rows": rows}


def _row(surrogate: str, attack: str, eps: float, crafted, targets, clean, y, zoo: Zoo) -> dict:
    adv = torch.cat(crafted)
    cells = {}
    for name, target in targets.items():
        still = correct(target, adv, y, device=zoo.device)
        was = clean[name]
        cells[name] = {
            "fooling_rate": round(float((was & ~still).sum() / max(int(was.sum()), 1)), 4),
            "accuracy": round(float(still.float().mean()), 4),
            "white_box": name == surrogate,
        }
    return {"surrogate": surrogate, "attack": attack, "eps": eps, "cells": cells}


def check_models(zoo: Zoo, names: list[str]) -> None:
    for name in names:
        if zoo.entry(name).spec.dataset != "mnist":
            raise BadRequest(f"{name} is not an MNIST digit classifier; the transfer matrix compares MNIST models.")
