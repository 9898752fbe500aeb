"""``advlab train srgan-mnist`` / ``srgan-faces``: one upscaler trained with the pixel loss, then on
with the critic.

Phase 1 minimises the L1 distance to the real high-resolution image. Phase 2 starts from those
weights and adds the adversarial term (hinge loss against a spectrally normalised critic), as SRGAN
fine-tunes its pixel-trained network. Both results are saved and measured on test images against
bicubic interpolation: PSNR (pixel fidelity), sharpness (mean gradient magnitude) and what a judge
still reads in the upscaled images: for digits the classifier's accuracy, for faces the attribute
classifier's balanced accuracy against CelebA's labels (whether the glasses and the smile survived).
Each dataset is one entry of SOURCES: its high-resolution train and test images and their labels.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from app.config import Settings
from app.gan import faces
from app.gan.superres import Critic, Upscaler, UpscalerConfig, bicubic, downscale, psnr, sharpness
from app.media import data
from app.zoo import Zoo
from app.zoo.inference import predict
from app.zoo.manifest import UpscalerSpec, WeightsRef, sha256_file

Log = Callable[[str], None]
DRY_RUN_STEPS = 3
EVAL_BATCH = 500


@dataclass(frozen=True)
class UpscalerRecipe:
    name: str
    title: str
    dataset: str
    cfg: UpscalerConfig
    pixel_epochs: int
    adversarial_epochs: int
    batch_size: int = 64
    lr: float = 2e-4
    adversarial_weight: float = 0.01  # the critic's term against L1 (pixel units)
    judge: str | None = "mnist-cnn"  # a zoo classifier, scored by its accuracy on the labels
    attribute_judge: str | None = None  # or a generator's attribute classifier, scored per attribute
    flip: bool = False  # random horizontal flips (faces; digits are not symmetric)


RECIPES = {
    r.name: r
    for r in [
        UpscalerRecipe(
            "srgan-mnist",
            "Super-resolution of MNIST digits (14x14 to 28x28)",
            "mnist",
            UpscalerConfig(),
            pixel_epochs=2,
            adversarial_epochs=2,
        ),
        UpscalerRecipe(
            "srgan-faces",
            "Super-resolution of CelebA faces (32x32 to 64x64)",
            "celeba",
            UpscalerConfig(channels=3, low=32, scale=2, width=32, blocks=3),
            pixel_epochs=2,
            adversarial_epochs=1,
            adversarial_weight=0.03,  # 0.01 barely moved the faces (as on digits); 0.1 drew a checkerboard
            judge=None,
            attribute_judge="dcgan-faces",
            flip=True,
        ),
    ]
}


# --- the datasets: high-resolution images (uint8 or float in [0, 1]) and their labels ------------


@dataclass(frozen=True)
class Source:
    load: Callable[[Path, bool], tuple[torch.Tensor, torch.Tensor]]  # (data_dir, train) -> images, labels
    checksums: Callable[[Path], dict[str, str]]


def _digits(data_dir: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST's 60,000 training or 10,000 test digits (N, 1, 28, 28) and their classes (N,)."""
    return data.load_split("mnist", data_dir, train=train)


def _faces(data_dir: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """CelebA faces (N, 3, 64, 64) uint8 and their attributes (N, A): all but the HELD_OUT last
    ones to train on, those to test on (the attribute classifier never saw them either)."""
    images, attributes = _all_faces(data_dir)
    part = slice(None, -faces.HELD_OUT) if train else slice(-faces.HELD_OUT, None)
    return images[part], attributes[part]


_all_faces = cache(faces.load_faces)  # read once per process: training, then measuring


def _face_checksums(data_dir: Path) -> dict[str, str]:
    _, attr_file = faces.face_folder(data_dir)
    return {attr_file.name: data._digest(attr_file, "sha256")}


SOURCES = {
    "mnist": Source(_digits, partial(data.checksums, "mnist")),
    "celeba": Source(_faces, _face_checksums),
}


def load_images(dataset: str, data_dir: Path, *, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """A dataset's high-resolution train or test images (uint8 or float) and labels."""
    return SOURCES[dataset].load(data_dir, train)


def pixels(x: torch.Tensor) -> torch.Tensor:
    """Images as float pixels in [0, 1], from uint8 or float."""
    return x.float().div(255) if x.dtype == torch.uint8 else x


def train(
    recipe: UpscalerRecipe,
    settings: Settings,
    out_dir: Path,
    *,
    seed: int,
    dry_run: bool,
    device: str,
    log: Log = print,
) -> UpscalerSpec:
    torch.manual_seed(seed)
    images, _ = load_images(recipe.dataset, settings.data_dir, train=True)
    upscaler, critic = Upscaler(recipe.cfg).to(device), Critic(recipe.cfg).to(device)
    opt_g = torch.optim.Adam(upscaler.parameters(), lr=recipe.lr, betas=(0.9, 0.999))
    opt_c = torch.optim.Adam(critic.parameters(), lr=recipe.lr, betas=(0.5, 0.999))
    order = torch.Generator().manual_seed(seed)
    started = time.perf_counter()
    pixel_epochs = 1 if dry_run else recipe.pixel_epochs
    for epoch, step, high in _batches(images, recipe, pixel_epochs, order, dry_run, device):
        loss = F.l1_loss(upscaler(downscale(high, recipe.cfg.scale)), high)
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        if step % 200 == 0:
            log(f"pixel epoch {epoch + 1}/{pixel_epochs} step {step} L1 {float(loss.detach()):.4f}")
    pixel_state = {k: v.detach().cpu().clone() for k, v in upscaler.state_dict().items()}
    adversarial_epochs = 1 if dry_run else recipe.adversarial_epochs
    for epoch, step, high in _batches(images, recipe, adversarial_epochs, order, dry_run, device):
        low = downscale(high, recipe.cfg.scale)
        c_loss = _critic_step(critic, opt_c, high, upscaler(low).detach())
        out = upscaler(low)
        l1, fooled = F.l1_loss(out, high), -critic(out).mean()
        opt_g.zero_grad(set_to_none=True)
        (l1 + recipe.adversarial_weight * fooled).backward()
        opt_g.step()
        if step % 200 == 0:
            log(
                f"adversarial epoch {epoch + 1}/{adversarial_epochs} step {step} L1 {float(l1.detach()):.4f} "
                f"G adv {float(fooled.detach()):.3f} critic {c_loss:.3f}"
            )
    seconds = time.perf_counter() - started
    refs = _save(
        recipe, out_dir, {"pixel": pixel_state, "adversarial": upscaler.state_dict(), "critic": critic.state_dict()}
    )
    metrics = {
        "command": f"advlab train {recipe.name} --seed {seed}" + (" --dry-run" if dry_run else ""),
        "seed": seed,
        "epochs": {"pixel": 0 if dry_run else pixel_epochs, "adversarial": 0 if dry_run else adversarial_epochs},
        "train_seconds": round(seconds, 1),
        "device": device,
        "torch": torch.__version__,
        "data_sha256": SOURCES[recipe.dataset].checksums(settings.data_dir),
    }
    spec = UpscalerSpec(
        name=recipe.name,
        title=recipe.title,
        dataset=recipe.dataset,
        config=recipe.cfg.to_dict(),
        judge=recipe.judge,
        attribute_judge=recipe.attribute_judge,
        metrics=metrics,
        licence=faces.LICENCE if recipe.dataset == "celeba" else None,
        **refs,
    )
    spec.metrics.update(measure(spec, settings, out_dir, samples=500 if dry_run else 10_000, device=device, log=log))
    return spec


def _batches(
    images: torch.Tensor, recipe: UpscalerRecipe, epochs: int, order: torch.Generator, dry_run: bool, device: str
) -> Iterator[tuple[int, int, torch.Tensor]]:
    steps = DRY_RUN_STEPS if dry_run else len(images) // recipe.batch_size
    for epoch in range(epochs):
        perm = torch.randperm(len(images), generator=order)[: steps * recipe.batch_size]
        for step, idx in enumerate(perm.split(recipe.batch_size)):
            high = pixels(images[idx]).to(device)
            if recipe.flip:  # mirror half the batch
                mirror = (torch.rand(len(high), generator=order) < 0.5).to(device)
                high = torch.where(mirror[:, None, None, None], high.flip(3), high)
            yield epoch, step, high


def _critic_step(critic: nn.Module, opt: torch.optim.Optimizer, real: torch.Tensor, upscaled: torch.Tensor) -> float:
    loss = F.relu(1 - critic(real)).mean() + F.relu(1 + critic(upscaled)).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


def _save(recipe: UpscalerRecipe, out_dir: Path, states: dict[str, dict[str, torch.Tensor]]) -> dict[str, WeightsRef]:
    out_dir.mkdir(parents=True, exist_ok=True)
    refs = {}
    for role, state in states.items():
        path = out_dir / f"{recipe.name}-{role}.safetensors"
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in state.items()},
            str(path),
            metadata={"name": recipe.name, "role": role},
        )
        refs[role] = WeightsRef(file=path.name, sha256=sha256_file(path))
    return refs


@torch.no_grad()
def measure(
    spec: UpscalerSpec, settings: Settings, models_dir: Path, *, samples: int, device: str, log: Log = print
) -> dict:
    """On the first ``samples`` test images, downscaled: PSNR against the real image, sharpness, and
    what the judge still reads (see _reader), for bicubic, the pixel-loss and the adversarial
    upscaler (and the real images' sharpness and reading as the ceiling)."""
    from app.gan.upscalers import load_upscaler

    entry = load_upscaler(spec, models_dir, torch.device(device))
    if entry.pixel is None or entry.adversarial is None:
        raise RuntimeError(f"{spec.name} cannot be measured: {entry.reason}")
    read, judged_by = _reader(spec, settings, device)
    high, labels = load_images(spec.dataset, settings.data_dir, train=False)
    high, labels = pixels(high[:samples]), labels[:samples]
    scale = entry.cfg.scale
    methods: dict[str, Callable[[torch.Tensor], torch.Tensor] | None] = {
        "bicubic": lambda low: bicubic(low, scale),
        "pixel": entry.pixel,
        "adversarial": entry.adversarial,
        "original": None,
    }
    figures: dict[str, dict[str, Any]] = {}
    for name, method in methods.items():
        batches = [high[i : i + EVAL_BATCH] for i in range(0, len(high), EVAL_BATCH)]
        outs = [b if method is None else method(downscale(b, scale).to(device)) for b in batches]
        out = torch.cat([o.cpu() for o in outs])
        figures[name] = {**read(out, labels), "sharpness": round(float(sharpness(out).mean()), 4)}
        if method is not None:
            figures[name]["psnr"] = round(float(psnr(out, high).mean()), 2)
        log(f"{spec.name}: {name}: {figures[name]}")
    return {"test_images": len(high), **judged_by, "upscaled": figures}


Reader = Callable[[torch.Tensor, torch.Tensor], dict[str, Any]]  # (images, labels) -> figures


def _reader(spec: UpscalerSpec, settings: Settings, device: str) -> tuple[Reader, dict[str, str]]:
    """What reads the upscaled images, and how it is named in the figures: a generator's attribute
    classifier (``attribute_balanced_accuracy``: the mean over its attributes and each one's balanced
    accuracy against the true labels), or a zoo classifier (``judge_accuracy``: top-1 against the class)."""
    if spec.attribute_judge:
        from app.gan.zoo import Generators

        gans = Generators.load(settings, torch.device(device), only={spec.attribute_judge})
        net = gans.get(spec.attribute_judge).attributes
        if net is None:
            raise RuntimeError(f"{spec.attribute_judge} has no attribute classifier to read {spec.name}'s faces")
        return partial(_attribute_agreement, net, device), {"attribute_judge": spec.attribute_judge}
    if spec.judge is None:
        raise RuntimeError(f"{spec.name} cannot be measured: it names no judge")
    zoo = Zoo.load(settings, only={spec.judge})
    judge = zoo.model(spec.judge)[1]

    def accuracy(out: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
        right = (predict(judge, out, zoo.device).argmax(1) == labels).float().mean()
        return {"judge_accuracy": round(float(right), 4)}

    return accuracy, {"judge": spec.judge}


def _attribute_agreement(net: nn.Module, device: str, out: torch.Tensor, labels: torch.Tensor) -> dict[str, Any]:
    """The attribute classifier's balanced accuracy against the true labels (N, A), per attribute."""
    logits = torch.cat([net(b.to(device)).cpu() for b in out.split(EVAL_BATCH)])
    per = faces.balanced_accuracy(logits > 0, labels.bool())
    names = {"mean": round(float(per.mean()), 4)}
    names.update({a: round(float(v), 4) for a, v in zip(faces.ATTRIBUTES, per)})
    return {"attribute_balanced_accuracy": names}
