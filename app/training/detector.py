"""``advlab train mnist-detector``: the SafetyNet for mnist-cnn, and how far it holds.

Training data: clean training digits (label "clean") and as many FGSM and PGD-10 examples made
against mnist-cnn at ε from 0.05 to 0.3 (label "adversarial"). The report measures detection on
test digits per attack and ε, on attacks it never saw (C&W, DeepFool), its false alarms on clean
digits, and an adaptive PGD that attacks classifier and detector together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from app.config import Settings
from app.defenses import detector as det
from app.defenses.evaluation import adversarial_examples, correct
from app.media import data
from app.training.classifiers import MNIST_NORM, Recipe, _save, build
from app.zoo import Zoo
from app.zoo.architectures import Classifier

Log = Callable[[str], None]
GUARDED = "mnist-cnn"
RECIPE = Recipe(
    "mnist-detector",
    "Adversarial-input detector for mnist-cnn (SafetyNet)",
    "mnist-adversarial",
    "small-cnn",
    {"channels": [16, 32], "hidden": 64, "dropout": 0.25, "num_classes": 2},
    MNIST_NORM,
    "digit",
    epochs=4,
    lr=1e-3,
    classes=tuple(det.CLASSES),
)
TRAIN_IMAGES = 30_000  # this many clean training digits, and one adversarial version of each
EPS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
TEST_IMAGES = 1000
ADAPTIVE_STEPS = 100


def train(settings: Settings, out_dir: Path, *, seed: int, dry_run: bool, device: str, log: Log = print):
    torch.manual_seed(seed)
    guarded = Zoo.load(settings, only={GUARDED}).model(GUARDED)[1]
    x, y = data.load_split("mnist", settings.data_dir, train=True)
    n = 256 if dry_run else TRAIN_IMAGES
    started = time.perf_counter()
    x_adv = training_examples(guarded, x[:n], y[:n], seed, device, log)
    inputs, labels = torch.cat([x[:n], x_adv]), torch.cat([torch.zeros(n), torch.ones(n)]).long()
    model = build(RECIPE).to(device)
    _fit(model, inputs, labels, seed, 1 if dry_run else RECIPE.epochs, device, log)
    seconds = time.perf_counter() - started
    x_test, y_test = data.load_split("mnist", settings.data_dir, train=False)
    m = 16 if dry_run else TEST_IMAGES
    report = detection_report(guarded, model, x_test[:m], y_test[:m], seed, device, log, quick=dry_run)
    spec = _save(
        model,
        RECIPE,
        out_dir,
        {
            "command": f"advlab train mnist-detector --seed {seed}" + (" --dry-run" if dry_run else ""),
            "seed": seed,
            "epochs": RECIPE.epochs,
            "train_seconds": round(seconds, 1),
            "device": device,
            "torch": torch.__version__,
            "data_sha256": data.checksums("mnist", settings.data_dir),
            "training_data": f"{n} clean training digits + FGSM/PGD-10 versions against {GUARDED}, ε in {EPS}",
            **report,
        },
    )
    spec.guards = GUARDED
    return spec


def training_examples(
    guarded: Classifier, x: torch.Tensor, y: torch.Tensor, seed: int, device: str, log: Log, batch: int = 500
) -> torch.Tensor:
    """One adversarial version per image: FGSM or PGD-10 by turns, ε cycling through EPS."""
    out = []
    for i, start in enumerate(range(0, len(x), batch)):
        eps = EPS[i % len(EPS)]
        attack, params = ("fgsm", {"eps": eps}) if i % 2 == 0 else ("pgd", {"eps": eps, "alpha": eps / 4, "steps": 10})
        out.append(
            adversarial_examples(
                guarded,
                x[start : start + batch],
                y[start : start + batch],
                attack,
                params,
                seed=seed + i,
                batch=batch,
                device=device,
            )
        )
        if i % 10 == 0:
            log(f"adversarial training examples: {start + len(out[-1])}/{len(x)}")
    return torch.cat(out)


def _fit(model: Classifier, x: torch.Tensor, y: torch.Tensor, seed: int, epochs: int, device: str, log: Log) -> None:
    gen = torch.Generator().manual_seed(seed)
    steps = -(-len(x) // 128)
    opt = torch.optim.Adam(model.parameters(), RECIPE.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, RECIPE.lr, total_steps=epochs * steps)
    model.train()
    for epoch in range(epochs):
        for step, idx in enumerate(torch.randperm(len(x), generator=gen).split(128)):
            loss = F.cross_entropy(model(x[idx].to(device)), y[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if step % 100 == 0 or step == steps - 1:
                log(f"detector: epoch {epoch + 1}/{epochs} step {step + 1}/{steps} loss {loss.item():.4f}")
    model.eval().requires_grad_(False)


def detection_report(
    guarded: Classifier,
    detector: Classifier,
    x: torch.Tensor,
    y: torch.Tensor,
    seed: int,
    device: str,
    log: Log,
    quick: bool = False,
) -> dict:
    """The figures for the manifest: false alarms, detection per attack and ε, unseen attacks, adaptive."""
    false_alarms = float(det.flagged(detector, x, device=device).float().mean())
    log(f"detector: false alarms on {len(x)} clean test digits: {false_alarms:.1%}")
    rows = []
    steps = 5 if quick else 40  # quick: the dry run's smoke test
    attacks = [("fgsm", lambda e: {"eps": e}), ("pgd", lambda e: {"eps": e, "alpha": 0.01, "steps": steps})]
    for name, params in attacks:
        for eps in EPS[-1:] if quick else EPS:
            rows.append(_row(guarded, detector, x, y, name, params(eps), eps, seed, device, log))
    for name in [] if quick else ["cw", "deepfool"]:  # never seen in training; minimal perturbations
        rows.append(_row(guarded, detector, x, y, name, {}, None, seed, device, log))
    adaptive = [
        _adaptive_row(guarded, detector, x, y, eps, seed, device, log, steps=5 if quick else ADAPTIVE_STEPS)
        for eps in ([0.3] if quick else [0.1, 0.2, 0.3])
    ]
    return {
        "detector": {
            "test_images": len(x),
            "false_alarm_rate": round(false_alarms, 4),
            "per_attack": rows,
            "adaptive": adaptive,
        }
    }


def _row(
    guarded, detector, x, y, attack: str, params: dict, eps: float | None, seed: int, device: str, log: Log
) -> dict:
    adv = adversarial_examples(guarded, x, y, attack, params, seed=seed, device=device)
    fooled = ~correct(guarded, adv, y, device=device)
    caught = det.flagged(detector, adv, device=device)
    row = {
        "attack": attack,
        "eps": eps,
        "fooled_classifier": round(float(fooled.float().mean()), 4),
        "detected": round(float(caught.float().mean()), 4),
        "detected_among_fooling": round(float(caught[fooled].float().mean()), 4) if fooled.any() else None,
    }
    log(
        f"detector vs {attack} ε={eps}: classifier fooled on {row['fooled_classifier']:.1%}, "
        f"detected {row['detected']:.1%} ({row['detected_among_fooling']} of the fooling ones)"
    )
    return row


def _adaptive_row(guarded, detector, x, y, eps: float, seed: int, device: str, log: Log, steps: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    adv = torch.cat(
        [
            det.adaptive_attack(
                guarded, detector, xb.to(device), yb.to(device), eps=eps, steps=steps, generator=gen
            ).cpu()
            for xb, yb in zip(x.split(500), y.split(500))
        ]
    )
    fooled = ~correct(guarded, adv, y, device=device)
    caught = det.flagged(detector, adv, device=device)
    both = float((fooled & ~caught).float().mean())
    log(f"adaptive PGD-{steps} ε={eps}: fools classifier and detector together on {both:.1%}")
    return {
        "eps": eps,
        "attack": f"PGD-{steps} (step 0.01, random start) on classifier loss − detector loss",
        "fooled_classifier": round(float(fooled.float().mean()), 4),
        "detected": round(float(caught.float().mean()), 4),
        "fooled_both": round(both, 4),
    }
