"""Training and evaluation of the zoo's small classifiers (``advlab train``/``advlab eval``).

Training is seeded end to end (weights init, shuffling, dropout) and works on whole-dataset
tensors: MNIST-sized data fits in memory, so no DataLoader workers are needed on 2 cores.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn
from torch.nn import functional as F

from app.defenses.adversarial import AdversarialTraining, adversarial_batch
from app.media import data
from app.zoo.architectures import Classifier, build_classifier
from app.zoo.manifest import ModelSpec, Normalization, WeightsRef, sha256_file

Log = Callable[[str], None]

MNIST_NORM = Normalization(mean=[0.1307], std=[0.3081])
FASHION_NORM = Normalization(mean=[0.2860], std=[0.3530])


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str
    dataset: str
    architecture: str
    config: dict[str, Any]
    normalization: Normalization
    preprocess: str
    epochs: int
    lr: float
    batch_size: int = 128
    weight_decay: float = 0.0
    adversarial: AdversarialTraining | None = None  # train on PGD examples (mnist-cnn-robust)
    classes: tuple[str, ...] | None = None  # None: the dataset's class names
    served: bool = True  # False: recorded in the manifest but kept out of the app (a judge)
    seed_offset: int = 0  # added to --seed: another init and batch order than a sibling at the same seed


RECIPES = {
    r.name: r
    for r in [
        Recipe(
            "mnist-mlp",
            "MNIST MLP 784-512-512-10 (seed 000)",
            "mnist",
            "mlp",
            {"hidden": 512, "depth": 2, "dropout": 0.2},
            MNIST_NORM,
            "digit",
            epochs=12,
            lr=1e-3,
        ),
        Recipe(
            "mnist-cnn",
            "MNIST small CNN",
            "mnist",
            "small-cnn",
            {"channels": [32, 64], "hidden": 128, "dropout": 0.25},
            MNIST_NORM,
            "digit",
            epochs=8,
            lr=2e-3,
        ),
        Recipe(
            "fashion-cnn",
            "Fashion-MNIST small CNN",
            "fashion-mnist",
            "small-cnn",
            {"channels": [32, 64], "hidden": 128, "dropout": 0.25},
            FASHION_NORM,
            "fashion",
            epochs=10,
            lr=2e-3,
        ),
        Recipe(
            "mnist-cnn-robust",
            "MNIST CNN, adversarially trained (PGD, L∞ ε = 0.3)",
            "mnist",
            "small-cnn",
            {"channels": [32, 64], "hidden": 512, "dropout": 0.1},
            MNIST_NORM,
            "digit",
            epochs=12,
            lr=1e-3,
            adversarial=AdversarialTraining(eps=0.3, steps=7, alpha=0.1, ramp_epochs=2.0),
        ),
        # A second opinion on generated digits (app/training/gans.py): another architecture and
        # seed than mnist-cnn, so that a sample both call a "3" is not one network's blind spot.
        Recipe(
            "mnist-judge",
            "MNIST small ResNet (judges generated digits; not served)",
            "mnist",
            "small-resnet",
            {"widths": [32, 64, 128]},
            MNIST_NORM,
            "digit",
            epochs=6,
            lr=3e-3,
            weight_decay=1e-4,
            served=False,
            seed_offset=1,
        ),
    ]
}

DRY_RUN_BATCHES = 3
DRY_RUN_TEST_IMAGES = 512


def build(recipe: Recipe) -> Classifier:
    norm = recipe.normalization
    return build_classifier(recipe.architecture, recipe.config, norm.mean, norm.std)


def train(
    recipe: Recipe,
    data_dir: Path,
    out_dir: Path,
    *,
    seed: int = 0,
    dry_run: bool = False,
    device: str = "cpu",
    log: Log = print,
    epochs: int | None = None,
) -> ModelSpec:
    """Train, evaluate on the test set, save ``out_dir/<name>.safetensors``; return its manifest entry.
    ``epochs`` overrides the recipe's (also in a dry run, which trains a few batches per epoch)."""
    recipe = dataclasses.replace(recipe, epochs=epochs or (1 if dry_run else recipe.epochs))
    command_seed, seed = seed, seed + recipe.seed_offset
    torch.manual_seed(seed)
    x_train, y_train = data.load_split(recipe.dataset, data_dir, train=True)
    x_test, y_test = data.load_split(recipe.dataset, data_dir, train=False)
    if dry_run:
        x_test, y_test = x_test[:DRY_RUN_TEST_IMAGES], y_test[:DRY_RUN_TEST_IMAGES]
    model = build(recipe).to(device).use_channels_last()  # convolutions about twice as fast on the CPU
    started = time.perf_counter()
    _fit(model, recipe, x_train, y_train, seed, dry_run, device, log)
    seconds = time.perf_counter() - started
    accuracy = evaluate(model, x_test, y_test, device)
    log(f"{recipe.name}: test accuracy {accuracy:.4f} on {len(y_test)} images ({seconds:.0f} s training)")
    return _save(
        model,
        recipe,
        out_dir,
        {
            "test_accuracy": round(accuracy, 4),
            "test_images": len(y_test),
            "command": f"advlab train {recipe.name} --seed {command_seed}"
            + (f" --epochs {epochs}" if epochs else "")
            + (" --dry-run" if dry_run else ""),
            "seed": command_seed,
            **({"seed_offset": recipe.seed_offset} if recipe.seed_offset else {}),
            "epochs": recipe.epochs if not dry_run else 0,
            "train_seconds": round(seconds, 1),
            "device": device,
            "torch": torch.__version__,
            "data_sha256": data.checksums(recipe.dataset, data_dir),
            **({"adversarial_training": recipe.adversarial.to_dict()} if recipe.adversarial else {}),
        },
    )


def _fit(
    model: nn.Module, recipe: Recipe, x: torch.Tensor, y: torch.Tensor, seed: int, dry_run: bool, device: str, log: Log
) -> None:
    steps_per_epoch = DRY_RUN_BATCHES if dry_run else -(-len(x) // recipe.batch_size)
    epochs = recipe.epochs
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, recipe.lr, total_steps=epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=gen)[: steps_per_epoch * recipe.batch_size]
        total, correct, seen = 0.0, 0, 0
        for step, idx in enumerate(order.split(recipe.batch_size)):
            xb, yb = x[idx].to(device), y[idx].to(device)
            logits, loss = _loss(model, recipe, xb, yb, epoch + step / steps_per_epoch, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(yb)
            correct += int((logits.argmax(1) == yb).sum().item())
            seen += len(yb)
            if step % 100 == 0 or step == steps_per_epoch - 1:
                log(
                    f"epoch {epoch + 1}/{epochs} step {step + 1}/{steps_per_epoch} "
                    f"loss {total / seen:.4f} train acc {correct / seen:.4f}"
                )
    model.eval()


def _loss(
    model: nn.Module, recipe: Recipe, x: torch.Tensor, y: torch.Tensor, epoch: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits on what was trained on, loss): plain cross-entropy, or the adversarial-training mix."""
    adv = recipe.adversarial
    if adv is None:
        logits = model(x)
        return logits, F.cross_entropy(logits, y)
    x_adv = adversarial_batch(model, x, y, adv.eps_at(epoch), adv, gen)
    logits = model(x_adv)
    loss = F.cross_entropy(logits, y)
    if adv.clean_weight:
        loss = (1 - adv.clean_weight) * loss + adv.clean_weight * F.cross_entropy(model(x), y)
    return logits, loss


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: str, batch_size: int = 1000) -> float:
    model.eval()
    correct = 0
    for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
        correct += (model(xb.to(device)).argmax(1).cpu() == yb).sum().item()
    return correct / len(y)


def _save(model: Classifier, recipe: Recipe, out_dir: Path, metrics: dict[str, Any]) -> ModelSpec:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{recipe.name}.safetensors"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"name": recipe.name, "architecture": recipe.architecture})
    return ModelSpec(
        name=recipe.name,
        title=recipe.title,
        dataset=recipe.dataset,
        architecture=recipe.architecture,
        config=recipe.config,
        input_shape=(1, 28, 28),
        normalization=recipe.normalization,
        preprocess=recipe.preprocess,
        classes=list(recipe.classes) if recipe.classes else data.class_names(recipe.dataset),
        weights=WeightsRef(file=path.name, sha256=sha256_file(path)),
        metrics=metrics,
        served=recipe.served,
    )
