"""``advlab train dcgan-mnist`` / ``dcgan-faces``: DCGANs for the GAN studio, with their quality.

dcgan-mnist is judged by the zoo's mnist-cnn. dcgan-faces first trains its own attribute
classifier (glasses, smiling, male, ...) on the same CelebA faces, then the GAN; the classifier
labels generated faces and finds exemplars for latent arithmetic.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from app.config import ROOT, Settings
from app.gan import faces, quality
from app.gan.game import Players, train_step, translate
from app.gan.networks import Discriminator, GanConfig, Generator, init_weights
from app.gan.zoo import load_generator
from app.media import data, imaging
from app.zoo import Zoo
from app.zoo.manifest import AttributeSpec, GeneratorSpec, WeightsRef, sha256_file

Log = Callable[[str], None]
DRY_RUN_STEPS = 3
QUALITY_SAMPLES = 10_000
QUALITY_SEED = 12345  # latents (12345, 0..9999): never the ones the pages show by default
PROGRESS_DIR = ROOT / "var" / "train"


@dataclass(frozen=True)
class GanRecipe:
    name: str
    title: str
    dataset: str  # "mnist" or "celeba"
    cfg: GanConfig
    epochs: int
    batch_size: int
    lr: float = 2e-4
    flip: bool = False  # random horizontal flips (faces; digits are not symmetric)
    translate: int = 0  # DiffAugment: shift what D sees by up to this many pixels (small datasets)
    real_label: float = 1.0  # below 1: one-sided label smoothing
    ema: float | None = None  # keep an exponential moving average of G's weights and ship that
    judge: str | None = None


RECIPES = {r.name: r for r in [
    GanRecipe("dcgan-mnist", "DCGAN on MNIST digits (28x28)", "mnist",
              # Chosen among variants (epochs 15-50, D width, lr, batch, label smoothing, EMA decay,
              # shifts) by the judge's figures; 50 epochs take about 4 minutes on one GPU.
              GanConfig(nz=100, channels=1, base=7, stages=2, g_width=128, d_width=128),
              epochs=50, batch_size=128, real_label=0.9, ema=0.999, judge="mnist-cnn"),
    GanRecipe("dcgan-faces", "DCGAN on CelebA faces (64x64)", "celeba",
              GanConfig(nz=100, channels=3, base=4, stages=4, g_width=48, d_width=48),
              epochs=20, batch_size=64, flip=True, translate=8, real_label=0.9),
]}


def train(recipe: GanRecipe, settings: Settings, out_dir: Path, *, seed: int, dry_run: bool,
          device: str, log: Log = print) -> GeneratorSpec:
    torch.manual_seed(seed)
    images, attrs = _load(recipe, settings.data_dir)
    attributes = None
    if recipe.dataset == "celeba":
        attributes = train_attributes(recipe.name, images, attrs, out_dir, seed, dry_run, device, log)
        images = images[: -faces.HELD_OUT]  # the GAN never sees the held-out faces either
    players = _players(recipe.cfg, recipe.lr, device)
    started = time.perf_counter()
    _fit(players, recipe, images, seed, dry_run, device, log)
    seconds = time.perf_counter() - started
    recalibrate_batchnorm(players.generator, seed, device)
    metrics = {"command": f"advlab train {recipe.name} --seed {seed}" + (" --dry-run" if dry_run else ""),
               "seed": seed, "epochs": 0 if dry_run else recipe.epochs, "train_seconds": round(seconds, 1),
               "device": device, "torch": torch.__version__, "data_sha256": _checksums(recipe, settings.data_dir)}
    spec = _save(players, recipe, out_dir, attributes, metrics)
    spec.metrics.update(measure(spec, settings, out_dir, samples=500 if dry_run else QUALITY_SAMPLES,
                                device=device, log=log))
    return spec


def _load(recipe: GanRecipe, data_dir: Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """uint8 images (N, C, H, W) and, for faces, attributes (N, A)."""
    if recipe.dataset == "celeba":
        return faces.load_faces(data_dir)
    x, _ = data.load_split(recipe.dataset, data_dir, train=True)
    return x.mul(255).round().byte(), None


def _checksums(recipe: GanRecipe, data_dir: Path) -> dict[str, str]:
    if recipe.dataset == "celeba":
        folder, attr_file = faces.face_folder(data_dir)
        return {attr_file.name: data._digest(attr_file, "sha256")}
    return data.checksums(recipe.dataset, data_dir)


def _players(cfg: GanConfig, lr: float, device: str) -> Players:
    g, d = Generator(cfg).to(device), Discriminator(cfg).to(device)
    g.apply(init_weights)
    d.apply(init_weights)
    adam = dict(lr=lr, betas=(0.5, 0.999))  # DCGAN's settings
    return Players(g, d, torch.optim.Adam(g.parameters(), **adam), torch.optim.Adam(d.parameters(), **adam))


def _fit(p: Players, recipe: GanRecipe, images: torch.Tensor, seed: int, dry_run: bool, device: str,
         log: Log) -> None:
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = DRY_RUN_STEPS if dry_run else len(images) // recipe.batch_size
    epochs = 1 if dry_run else recipe.epochs
    batches: list[torch.Tensor] = []

    def real_batch() -> torch.Tensor:
        x = images[batches.pop()].to(device).float().div_(255)
        if recipe.flip:  # flip a random half of the batch left-right
            flip = torch.rand(len(x), generator=gen) < 0.5
            x[flip.to(device)] = x[flip.to(device)].flip(3)
        return x

    def noise() -> torch.Tensor:
        return torch.randn(recipe.batch_size, recipe.cfg.nz, generator=gen).to(device)

    augment = (lambda x: translate(x, recipe.translate, gen)) if recipe.translate else None
    watch = torch.randn(64, recipe.cfg.nz, generator=torch.Generator().manual_seed(seed + 3)).to(device)
    average = copy.deepcopy(p.generator).requires_grad_(False) if recipe.ema else None
    p.generator.train()
    p.discriminator.train()
    for epoch in range(epochs):
        order = torch.randperm(len(images), generator=gen)
        batches = list(order[: steps_per_epoch * recipe.batch_size].split(recipe.batch_size))[::-1]
        for step in range(steps_per_epoch):
            s = train_step(p, real_batch, noise, augment=augment, real_label=recipe.real_label)
            if average is not None:
                _ema_update(average, p.generator, recipe.ema)
            if step % 50 == 0 or step == steps_per_epoch - 1:
                log(f"epoch {epoch + 1}/{epochs} step {step + 1}/{steps_per_epoch} D loss {s.d_loss:.3f} "
                    f"G loss {s.g_loss:.3f} D(x) {s.d_real:.2f} D(G(z)) {s.d_fake:.2f}")
        _progress_grid(p.generator if average is None else average, watch, recipe.name, epoch + 1)
    if average is not None:  # ship the average: smoother than any single step's weights (Yazıcı et al. 2019)
        p.generator.load_state_dict(average.state_dict())


@torch.no_grad()
def _ema_update(average: nn.Module, current: nn.Module, decay: float) -> None:
    for a, c in zip(average.parameters(), current.parameters()):
        a.lerp_(c, 1 - decay)


def _progress_grid(generator: Generator, z: torch.Tensor, name: str, epoch: int) -> None:
    """var/train/<name>-epochNN.png: 64 fixed latents, to watch training from outside."""
    with torch.no_grad():
        images = generator(z).cpu()
    PROGRESS_DIR.mkdir(parents=True, exist_ok=True)
    grid_image(images).save(PROGRESS_DIR / f"{name}-epoch{epoch:02d}.png")


def grid_image(images: torch.Tensor, columns: int = 8):
    """(N, C, H, W) in [0,1] -> one PIL image, ``columns`` wide, 2-pixel gaps."""
    n, c, h, w = images.shape
    rows = -(-n // columns)
    canvas = torch.ones(c, rows * (h + 2), columns * (w + 2))
    for i, x in enumerate(images):
        r, col = divmod(i, columns)
        canvas[:, r * (h + 2): r * (h + 2) + h, col * (w + 2): col * (w + 2) + w] = x
    return imaging.tensor_to_image(canvas)


@torch.no_grad()
def recalibrate_batchnorm(generator: Generator, seed: int, device: str, batches: int = 100, size: int = 256) -> None:
    """Replace the generator's batch-norm running statistics by exact averages over many batches,
    so that eval mode (one sample at a time, deterministic) draws what training mode drew."""
    gen = torch.Generator().manual_seed(seed + 1)
    for m in generator.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    generator.train()
    for _ in range(batches):
        generator(torch.randn(size, generator.cfg.nz, generator=gen).to(device))
    generator.eval()


# --- the faces' attribute classifier ----------------------------------------------------------

ATTR_EPOCHS = 12
ATTR_WIDTH = 32


def train_attributes(name: str, images: torch.Tensor, attrs: torch.Tensor, out_dir: Path, seed: int,
                     dry_run: bool, device: str, log: Log) -> AttributeSpec:
    """Train on all but the last HELD_OUT faces; report accuracy per attribute on those."""
    net = faces.attribute_net(ATTR_WIDTH).to(device)
    x_train, y_train = images[: -faces.HELD_OUT], attrs[: -faces.HELD_OUT]
    x_test, y_test = images[-faces.HELD_OUT:], attrs[-faces.HELD_OUT:]
    # rare attributes (glasses: 7%) weigh more, so "never" is not the easy answer
    pos_weight = ((1 - y_train.mean(0)) / y_train.mean(0).clamp_min(1e-3)).clamp(max=10).to(device)
    opt = torch.optim.Adam(net.parameters(), 2e-3, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    steps = DRY_RUN_STEPS if dry_run else len(x_train) // 64
    epochs = 1 if dry_run else ATTR_EPOCHS
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=epochs * steps)
    net.train()
    for epoch in range(epochs):
        order = torch.randperm(len(x_train), generator=gen)[: steps * 64]
        for step, idx in enumerate(order.split(64)):
            xb = x_train[idx].to(device).float().div_(255)
            xb = torch.where((torch.rand(len(xb), generator=gen) < 0.5).to(device)[:, None, None, None], xb.flip(3), xb)
            loss = F.binary_cross_entropy_with_logits(net(xb), y_train[idx].to(device), pos_weight=pos_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if step % 50 == 0 or step == steps - 1:
                log(f"attributes: epoch {epoch + 1}/{epochs} step {step + 1}/{steps} loss {loss.item():.4f}")
    net.eval()
    metrics = attribute_accuracy(net, x_test, y_test, device)
    log("attributes on held-out faces: " + ", ".join(f"{a} {m['accuracy']:.3f}" for a, m in metrics.items()))
    path = out_dir / f"{name}-attributes.safetensors"
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(path))
    return AttributeSpec(names=faces.ATTRIBUTES, config={"width": ATTR_WIDTH},
                         weights=WeightsRef(file=path.name, sha256=sha256_file(path)),
                         metrics={"held_out_faces": len(y_test), "per_attribute": metrics,
                                  "epochs": epochs, "seed": seed})


@torch.no_grad()
def attribute_accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, device: str) -> dict[str, dict]:
    """Accuracy, and balanced accuracy (mean of the hit rates on positives and negatives)."""
    pred = torch.cat([net(b.to(device).float().div(255)).cpu() > 0 for b in x.split(500)])
    truth = y.bool()
    out = {}
    for i, name in enumerate(faces.ATTRIBUTES):
        p, t = pred[:, i], truth[:, i]
        tpr = (p & t).sum() / t.sum().clamp_min(1)
        tnr = (~p & ~t).sum() / (~t).sum().clamp_min(1)
        out[name] = {"accuracy": round(float((p == t).float().mean()), 4),
                     "balanced_accuracy": round(float((tpr + tnr) / 2), 4), "positives": int(t.sum())}
    return out


# --- saving and measuring -----------------------------------------------------------------------

def _save(p: Players, recipe: GanRecipe, out_dir: Path, attributes: AttributeSpec | None,
          metrics: dict) -> GeneratorSpec:
    out_dir.mkdir(parents=True, exist_ok=True)
    refs = {}
    for role, net in (("generator", p.generator), ("discriminator", p.discriminator)):
        path = out_dir / f"{recipe.name}-{role}.safetensors"
        state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
        save_file(state, str(path), metadata={"name": recipe.name, "role": role})
        refs[role] = WeightsRef(file=path.name, sha256=sha256_file(path))
    return GeneratorSpec(name=recipe.name, title=recipe.title, dataset=recipe.dataset,
                         config=recipe.cfg.to_dict(), judge=recipe.judge, attributes=attributes,
                         metrics=metrics, licence=faces.LICENCE if recipe.dataset == "celeba" else None, **refs)


def measure(spec: GeneratorSpec, settings: Settings, models_dir: Path, *, samples: int = QUALITY_SAMPLES,
            device: str = "cpu", log: Log = print) -> dict:
    """The generator's quality figures, as recorded in the manifest and printed by ``advlab eval``."""
    entry = load_generator(spec, models_dir, torch.device(device))
    images = quality.generate(entry.generator, samples, QUALITY_SEED, device)
    if spec.judge:
        return _judge_metrics(spec, settings, images, device, log)
    return _face_metrics(entry, settings, images, device, log)


def _judge_metrics(spec: GeneratorSpec, settings: Settings, samples: torch.Tensor, device: str, log: Log) -> dict:
    judge = Zoo.load(settings, only={spec.judge}).model(spec.judge)[1].to(device)
    report = quality.judge_report(samples, judge, device)
    penultimate = lambda x: judge.net[:-1](judge.normalize(x))
    real = min(10_000, max(len(samples), 1000))  # the whole test set for a full measurement
    test, _ = data.load_split(spec.dataset, settings.data_dir, train=False)
    train, _ = data.load_split(spec.dataset, settings.data_dir, train=True)
    test = test[:real]
    f_test = quality.features(penultimate, test, device)
    fid = quality.frechet_distance(quality.features(penultimate, samples, device), f_test)
    baseline = quality.frechet_distance(quality.features(penultimate, train[: len(test)], device), f_test)
    log(f"{spec.name}: {report['confident_share']:.1%} of {len(samples)} samples judged with p >= 0.9; "
        f"class shares {report['class_shares']}; Fréchet distance {fid:.2f} (train vs test {baseline:.2f})")
    return {"judge": spec.judge, **report, "frechet_distance": round(fid, 3),
            "frechet_baseline_train_vs_test": round(baseline, 3),
            "frechet_features": f"{spec.judge} penultimate layer (128-d), {len(test)} test images"}


def _face_metrics(entry, settings: Settings, samples: torch.Tensor, device: str, log: Log) -> dict:
    images, attrs = faces.load_faces(settings.data_dir)
    net = entry.attributes
    pooled = lambda x: net[:-2](x)
    held_out = images[-faces.HELD_OUT:].float().div(255)
    seen = images[: faces.HELD_OUT].float().div(255)
    f_held = quality.features(pooled, held_out, device)
    fid = quality.frechet_distance(quality.features(pooled, samples[: faces.HELD_OUT], device), f_held)
    baseline = quality.frechet_distance(quality.features(pooled, seen, device), f_held)
    with torch.no_grad():
        rates = torch.cat([torch.sigmoid(net(x.to(device))).cpu() > 0.5 for x in samples.split(500)]).float().mean(0)
    shares = {a: round(float(r), 4) for a, r in zip(faces.ATTRIBUTES, rates)}
    data_shares = {a: round(float(r), 4) for a, r in zip(faces.ATTRIBUTES, attrs.mean(0))}
    log(f"{entry.spec.name}: Fréchet distance {fid:.2f} (real vs real {baseline:.2f}); attribute shares {shares}")
    return {"samples": len(samples), "attribute_shares": shares, "data_attribute_shares": data_shares,
            "frechet_distance": round(fid, 3), "frechet_baseline_real_vs_real": round(baseline, 3),
            "frechet_features": f"the attribute classifier's pooled layer (128-d), {faces.HELD_OUT} held-out faces"}
