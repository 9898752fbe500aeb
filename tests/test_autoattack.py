"""APGD-CE + APGD-T (app/defenses/autoattack.py), the stronger check behind ``advlab eval --autoattack``."""

from __future__ import annotations

import torch

from app.defenses.autoattack import apgd, autoattack, checkpoints, dlr_targeted_loss
from app.defenses.evaluation import accuracy_under_attack
from app.media import data
from tests.test_cli import advlab


def test_checkpoints_follow_the_papers_schedule() -> None:
    # p = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 of the iterations (Croce & Hein 2020, §3.2)
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]


def test_dlr_is_scale_free_and_rises_as_the_target_overtakes_the_label() -> None:
    logits = torch.tensor([[5.0, 1.0, 0.5, 0.2, 0.1], [2.0, 1.9, 0.5, 0.2, 0.1]])
    y, t = torch.tensor([0, 0]), torch.tensor([1, 1])
    assert torch.allclose(dlr_targeted_loss(3 * logits, y, t), dlr_targeted_loss(logits, y, t))
    loss = dlr_targeted_loss(logits, y, t)
    assert loss[1] > loss[0]  # closer to the target: higher


def test_apgd_fools_the_plain_model_and_stays_in_the_ball(components, settings) -> None:
    x, y = data.load_split("mnist", settings.data_dir, train=False)
    cnn = components.zoo.model("mnist-cnn")[1]
    fooled = apgd(cnn, x[:16], y[:16], 0.3, steps=20)
    assert int(fooled.sum()) >= 15


def test_apgd_is_at_least_as_strong_as_pgd_on_the_robust_model(components, settings) -> None:
    x, y = data.load_split("mnist", settings.data_dir, train=False)
    x, y = x[:64], y[:64]
    robust = components.zoo.model("mnist-cnn-robust")[1]
    result = autoattack(robust, x, y, 0.3, steps=25, targets=2)
    pgd = accuracy_under_attack(robust, x, y, "pgd", {"eps": 0.3, "alpha": 0.01, "steps": 25})
    assert result.after_t <= result.after_ce <= result.clean
    assert result.after_ce <= pgd + 1 / 64  # (one image of slack: both start at random points)
    assert result.after_t >= 0.7  # a robust model: most images hold


def test_eval_autoattack_command(data_dir) -> None:
    r = advlab("eval", "mnist-cnn-robust", "--autoattack", "--limit", "4", data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    assert "under PGD-100" in r.stdout and "under APGD-CE + APGD-T (9 targets, 100 steps each)" in r.stdout
