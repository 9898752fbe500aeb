"""``advlab train srgan-mnist``: one upscaler trained with the pixel loss, then on with the critic.

Phase 1 minimises the L1 distance to the real high-resolution digit. Phase 2 starts from those
weights and adds the adversarial term (hinge loss against a spectrally normalised critic), as SRGAN
fine-tunes its pixel-trained network. Both results are saved and measured on the test digits
against bicubic interpolation: PSNR (pixel fidelity), sharpness (mean gradient magnitude) and the
judge's accuracy on the upscaled digits (whether the digit survived).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from app.config import Settings
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
    judge: str = "mnist-cnn"


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
    ]
}


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
    images, _ = data.load_split(recipe.dataset, settings.data_dir, train=True)
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
        "data_sha256": data.checksums(recipe.dataset, settings.data_dir),
    }
    spec = UpscalerSpec(
        name=recipe.name,
        title=recipe.title,
        dataset=recipe.dataset,
        config=recipe.cfg.to_dict(),
        judge=recipe.judge,
        metrics=metrics,
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
            yield epoch, step, images[idx].to(device)


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
    """On the first ``samples`` test digits, downscaled: PSNR against the real digit, sharpness, and
    the judge's accuracy, for bicubic, the pixel-loss and the adversarial upscaler (and the real
    digits' sharpness and accuracy as the ceiling)."""
    from app.gan.upscalers import load_upscaler

    entry = load_upscaler(spec, models_dir, torch.device(device))
    if entry.pixel is None or entry.adversarial is None or spec.judge is None:
        raise RuntimeError(f"{spec.name} cannot be measured: {entry.reason or 'it names no judge'}")
    zoo = Zoo.load(settings, only={spec.judge})
    judge = zoo.model(spec.judge)[1]
    high, labels = data.load_split(spec.dataset, settings.data_dir, train=False)
    high, labels = high[:samples], labels[:samples]
    scale = entry.cfg.scale
    methods: dict[str, Callable[[torch.Tensor], torch.Tensor] | None] = {
        "bicubic": lambda low: bicubic(low, scale),
        "pixel": entry.pixel,
        "adversarial": entry.adversarial,
        "original": None,
    }
    figures: dict[str, dict[str, float]] = {}
    for name, method in methods.items():
        batches = [high[i : i + EVAL_BATCH] for i in range(0, len(high), EVAL_BATCH)]
        outs = [b if method is None else method(downscale(b, scale).to(device)) for b in batches]
        out = torch.cat([o.cpu() for o in outs])
        right = (predict(judge, out, zoo.device).argmax(1) == labels).float().mean()
        figures[name] = {"judge_accuracy": round(float(right), 4), "sharpness": round(float(sharpness(out).mean()), 4)}
        if method is not None:
            figures[name]["psnr"] = round(float(psnr(out, high).mean()), 2)
        log(f"{spec.name}: {name}: {figures[name]}")
    return {"test_images": len(high), "judge": spec.judge, "upscaled": figures}
