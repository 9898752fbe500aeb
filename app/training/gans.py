"""``advlab train dcgan-mnist`` / ``dcgan-mnist-cond`` / ``dcgan-faces``: DCGANs for the GAN studio,
with their quality.

dcgan-mnist is judged by the zoo's mnist-cnn and, as a second opinion that the pages never show,
by mnist-judge (another architecture and seed). dcgan-mnist-cond draws the digit it is asked for;
its figure is the share of samples both judges take for the requested digit. dcgan-faces first
trains its own attribute classifier (glasses, smiling, male, ...) on the same CelebA faces, then
the GAN; the classifier labels generated faces and finds exemplars for latent arithmetic.

Checkpoints and resuming: after every epoch the players, the EMA generator, both optimisers, the
random streams and the epoch count go to ``var/train/<name>/checkpoint.pt`` (a dry run writes
``<out>/<name>-checkpoint.pt`` instead, so that it never shadows a real run's).
``advlab train NAME --resume`` goes on from that file, ``--resume PATH`` from another one;
``--epochs N`` trains N epochs in all instead of the recipe's (a resumed run stops at N too).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from app.config import Settings
from app.gan import faces, quality
from app.gan.game import Batch, Loss, Players, train_step, translate
from app.gan.networks import (
    AnyGenerator,
    ConditionalGenerator,
    GanConfig,
    Generator,
    build_discriminator,
    build_generator,
    init_weights,
)
from app.gan.zoo import load_generator
from app.media import data, imaging
from app.training import checkpoints
from app.training.checkpoints import RunState
from app.zoo import Zoo
from app.zoo.architectures import Classifier
from app.zoo.manifest import AttributeSpec, GeneratorSpec, WeightsRef, sha256_file

Log = Callable[[str], None]
DRY_RUN_STEPS = 3
QUALITY_SAMPLES = 10_000
QUALITY_SEED = 12345  # latents (12345, 0..9999): never the ones the pages show by default
PROGRESS_DIR = checkpoints.CHECKPOINT_DIR
LOG_EVERY = 100  # steps; only these read figures back from the device


@dataclass(frozen=True)
class GanRecipe:
    name: str
    title: str
    dataset: str  # "mnist" or "celeba"
    cfg: GanConfig
    epochs: int
    batch_size: int
    lr: float = 2e-4
    lr_d: float | None = None  # D's learning rate when it differs from G's (two time-scale updates)
    class_weight: float = 1.0  # weight of the class terms when D also names the class (cfg.classifier)
    loss: Loss = "logistic"  # "hinge" goes with cfg.d_norm="spectral" (SN-GAN)
    flip: bool = False  # random horizontal flips (faces; digits are not symmetric)
    translate: int = 0  # DiffAugment: shift what D sees by up to this many pixels (small datasets)
    real_label: float = 1.0  # below 1: one-sided label smoothing (logistic loss only)
    ema: float | None = None  # keep an exponential moving average of G's weights and ship that
    judge: str | None = None  # labels the samples on the pages and in the figures
    measured_by: tuple[str, ...] = ()  # further judges for the figures only
    overrides: tuple[tuple[str, str], ...] = ()  # the --set pairs this recipe was made with


def with_overrides(recipe: GanRecipe, pairs: list[str]) -> GanRecipe:
    """The recipe with ``KEY=VALUE`` pairs applied (``advlab train NAME --set KEY=VALUE``): KEY is a
    field of the recipe or of its network config; VALUE is read as that field's type."""
    changes: dict[str, object] = {}
    cfg_changes: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            raise ValueError(f"--set takes KEY=VALUE, not {pair!r}")
        if key in ("name", "title", "dataset", "cfg", "overrides"):
            raise ValueError(f"--set cannot change {key}")
        if hasattr(recipe.cfg, key):
            cfg_changes[key] = _parse(text, getattr(recipe.cfg, key), key)
        elif hasattr(recipe, key):
            changes[key] = _parse(text, getattr(recipe, key), key)
        else:
            raise ValueError(f"--set {key}: no such setting in {recipe.name}'s recipe or network config")
    cfg = dataclasses.replace(recipe.cfg, **cfg_changes)  # type: ignore[arg-type]
    done = tuple(p.partition("=")[::2] for p in pairs)
    return dataclasses.replace(recipe, cfg=cfg, overrides=recipe.overrides + done, **changes)  # type: ignore[arg-type]


def _parse(text: str, current: object, key: str) -> object:
    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return text.lower() in ("true", "1")
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float) or (current is None and key in ("lr_d", "ema")):
            return None if text.lower() == "none" else float(text)
    except ValueError:
        raise ValueError(f"--set {key}={text}: not a {type(current).__name__}") from None
    return text


MNIST_GAN = GanConfig(nz=100, channels=1, base=7, stages=2, g_width=128, d_width=128, d_norm="spectral")
RECIPES = {
    r.name: r
    for r in [
        # The DCGAN recipe, chosen among variants (epochs 15-50, D width, lr, batch, label smoothing,
        # EMA decay, shifts) by the judge's figures: 83% of samples confident (mnist-cnn). Tried since,
        # on an H200, with a spectrally normalised D and the hinge loss (--set d_norm=spectral --set
        # loss=hinge --set real_label=1.0): 40 epochs 81.8% (mnist-judge 68.4%), 60 epochs 83.2% (70.5%);
        # 40 epochs with D's lr 4e-4 and G's 1e-4 79.3% (62.9%), with EMA decay 0.9999 79.6% (65.2%);
        # without EMA (25 epochs) 78.5%; the logistic loss with SN 80.5%. None beat this one.
        GanRecipe(
            "dcgan-mnist",
            "DCGAN on MNIST digits (28x28)",
            "mnist",
            dataclasses.replace(MNIST_GAN, d_norm="batch"),
            epochs=50,
            batch_size=128,
            real_label=0.9,
            ema=0.999,
            judge="mnist-cnn",
            measured_by=("mnist-judge",),
        ),
        # D also names the digit (AC-GAN's head) and G is trained to have it named as asked. H200 runs,
        # share of 10,000 samples taken for the requested digit by both judges: 95.6% (25 epochs;
        # mnist-cnn 96.7%, mnist-judge 96.7%), 93.6% (30 epochs), 95.1% (25 epochs, EMA 0.999);
        # class_weight 2: 88.5%, 4: 89.9% with digit 2 never drawn. Without the head (projection only,
        # 20 epochs) 83%; with EMA the label embedding moved too fast to be averaged (58%).
        GanRecipe(
            "dcgan-mnist-cond",
            "Class-conditional DCGAN on MNIST digits (28x28)",
            "mnist",
            dataclasses.replace(MNIST_GAN, num_classes=10, embed_dim=32, classifier=True),
            epochs=25,
            batch_size=128,
            loss="hinge",
            judge="mnist-cnn",
            measured_by=("mnist-judge",),
        ),
        # H200 runs of about 250 s each (--time-limit 250), Fréchet distance on the attribute net's
        # features (real vs real 0.25) and the lecture example's share (benchmarks/gan_lecture_example.py):
        # this recipe (G width 64, EMA 0.9995, shifts up to 4 px) 58 epochs 1.88, 12%; G width 48 with
        # shifts of 8 and EMA 0.999: 60 epochs 2.76, 20%; 63 epochs 2.33, 14%; G width 64, EMA 0.999:
        # 58 epochs 2.59, 16%; with SN + hinge, lr 1e-4 / D 4e-4: 50 epochs 3.83, 14%. The recipe before
        # (G width 48, shifts of 8, no EMA, 20 epochs on a CPU): 5.36, 16%.
        GanRecipe(
            "dcgan-faces",
            "DCGAN on CelebA faces (64x64)",
            "celeba",
            GanConfig(nz=100, channels=3, base=4, stages=4, g_width=64, d_width=48),
            epochs=58,
            batch_size=64,
            flip=True,
            translate=4,
            real_label=0.9,
            ema=0.9995,
        ),
    ]
}


def train(
    recipe: GanRecipe,
    settings: Settings,
    out_dir: Path,
    *,
    seed: int,
    dry_run: bool,
    device: str,
    log: Log = print,
    epochs: int | None = None,
    resume: Path | None = None,
    checkpoint: Path | None = None,
    time_limit: float | None = None,
) -> GeneratorSpec:
    """Train (``epochs`` overrides the recipe's; ``resume`` continues a checkpoint; ``time_limit``
    ends the run after the epoch during which that many seconds have passed), save the weights in
    ``out_dir``, measure them; return the manifest entry."""
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = device.startswith("cuda")  # fixed shapes: pick the fastest kernels once
    images, targets = _load(recipe, settings.data_dir)
    attributes = None
    if recipe.dataset == "celeba":
        attributes = train_attributes(recipe.name, images, targets, out_dir, seed, dry_run, device, log)
        images = images[: -faces.HELD_OUT]  # the GAN never sees the held-out faces either
    total = epochs or (1 if dry_run else recipe.epochs)
    players = _players(recipe, device)
    run = _run_state(recipe, players, seed, device)
    if resume:
        checkpoints.load(resume, recipe.name, players, run)
        log(f"{recipe.name}: resumed from {resume} after epoch {run.epoch}")
    resumed_from = run.epoch
    checkpoint = checkpoint or checkpoint_path(recipe.name, out_dir, dry_run or out_dir != settings.models_dir)
    started = time.perf_counter()
    _fit(players, run, recipe, images, targets, total, dry_run, device, checkpoint, log, time_limit)
    seconds = time.perf_counter() - started
    if run.epoch < total:  # stopped by the time limit: record the command that repeats this run
        log(f"{recipe.name}: time limit of {time_limit} s reached after epoch {run.epoch} of {total}")
        epochs = run.epoch
    if run.average is not None:  # ship the average: smoother than any single step's weights (Yazıcı et al. 2019)
        players.generator.load_state_dict(run.average.state_dict())
    recalibrate_batchnorm(_generator(players), seed, device, batches=DRY_RUN_STEPS if dry_run else 100)
    command = f"advlab train {recipe.name} --seed {seed}" + (f" --epochs {epochs}" if epochs else "")
    command += "".join(f" --set {key}={value}" for key, value in recipe.overrides)
    metrics = {
        "command": command + (" --dry-run" if dry_run else ""),
        "seed": seed,
        "epochs": 0 if dry_run else run.epoch,
        "train_seconds": round(seconds, 1),
        **({"resumed_from_epoch": resumed_from} if resume else {}),
        "device": device,
        "torch": torch.__version__,
        "data_sha256": _checksums(recipe, settings.data_dir),
    }
    spec = _save(players, recipe, out_dir, attributes, metrics)
    spec.metrics.update(
        measure(spec, settings, out_dir, samples=500 if dry_run else QUALITY_SAMPLES, device=device, log=log)
    )
    return spec


def checkpoint_path(name: str, out_dir: Path, beside_weights: bool) -> Path:
    """var/train/<name>/checkpoint.pt, or beside the weights in ``out_dir`` (a dry run, or a run
    written somewhere other than models/, so that runs side by side keep their own)."""
    return out_dir / f"{name}-checkpoint.pt" if beside_weights else checkpoints.default_path(name)


def _load(recipe: GanRecipe, data_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, C, H, W) and digit labels (N,) or, for faces, attributes (N, A)."""
    if recipe.dataset == "celeba":
        return faces.load_faces(data_dir)
    x, y = data.load_split(recipe.dataset, data_dir, train=True)
    return x.mul(255).round().byte(), y


def _checksums(recipe: GanRecipe, data_dir: Path) -> dict[str, str]:
    if recipe.dataset == "celeba":
        folder, attr_file = faces.face_folder(data_dir)
        return {attr_file.name: data._digest(attr_file, "sha256")}
    return data.checksums(recipe.dataset, data_dir)


def _players(recipe: GanRecipe, device: str) -> Players:
    g, d = build_generator(recipe.cfg).to(device), build_discriminator(recipe.cfg).to(device)
    g.apply(init_weights)
    d.apply(init_weights)
    betas = (0.5, 0.999)  # DCGAN's settings (also SN-GAN's setting C)
    return Players(
        g,
        d,
        torch.optim.Adam(g.parameters(), lr=recipe.lr, betas=betas),
        torch.optim.Adam(d.parameters(), lr=recipe.lr_d or recipe.lr, betas=betas),
    )


def _generator(p: Players) -> AnyGenerator:
    """The players' generator, one of app.gan.networks' (training's players come from _players)."""
    assert isinstance(p.generator, (Generator, ConditionalGenerator))
    return p.generator


def _run_state(recipe: GanRecipe, players: Players, seed: int, device: str) -> RunState:
    average = copy.deepcopy(_generator(players)).requires_grad_(False) if recipe.ema else None
    return RunState(
        average, order=torch.Generator().manual_seed(seed), noise=torch.Generator(device=device).manual_seed(seed + 2)
    )


def _fit(
    p: Players,
    run: RunState,
    recipe: GanRecipe,
    images: torch.Tensor,
    targets: torch.Tensor,
    epochs: int,
    dry_run: bool,
    device: str,
    checkpoint: Path,
    log: Log,
    time_limit: float | None = None,
) -> None:
    """Train from run.epoch to ``epochs``, checkpointing after each epoch (and stopping after the
    epoch that passes ``time_limit`` seconds). The whole dataset sits on the device and every random
    draw is made there: no step waits for the host."""
    images, labels = images.to(device), targets.to(device)
    steps_per_epoch = DRY_RUN_STEPS if dry_run else len(images) // recipe.batch_size
    conditional = recipe.cfg.num_classes > 0
    batches: list[torch.Tensor] = []

    def real_batch() -> Batch:
        idx = batches.pop()
        x = images[idx].float().div_(255)
        if recipe.flip:  # flip a random half of the batch left-right
            flip = torch.rand(len(x), generator=run.noise, device=device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        return (x, labels[idx]) if conditional else x

    def noise() -> Batch:
        z = torch.randn(recipe.batch_size, recipe.cfg.nz, generator=run.noise, device=device)
        if not conditional:
            return z
        return z, torch.randint(0, recipe.cfg.num_classes, (recipe.batch_size,), generator=run.noise, device=device)

    augment = (lambda x: translate(x, recipe.translate, run.noise)) if recipe.translate else None
    watch = _watch(recipe, run.order.initial_seed() + 3, device)
    p.generator.train()
    p.discriminator.train()
    began = time.perf_counter()
    while run.epoch < epochs:
        started = time.perf_counter()
        order = torch.randperm(len(images), generator=run.order)[: steps_per_epoch * recipe.batch_size]
        batches = list(order.to(device).split(recipe.batch_size))[::-1]
        for step in range(steps_per_epoch):
            last = step == steps_per_epoch - 1
            s = train_step(
                p,
                real_batch,
                noise,
                augment=augment,
                real_label=recipe.real_label,
                loss=recipe.loss,
                class_weight=recipe.class_weight,
                stats=step % LOG_EVERY == 0 or last,
            )
            if run.average is not None:
                assert recipe.ema is not None  # the average is kept only when the recipe sets its decay
                _ema_update(run.average, p.generator, recipe.ema)
            if s is not None:
                log(
                    f"epoch {run.epoch + 1}/{epochs} step {step + 1}/{steps_per_epoch} D loss {s.d_loss:.3f} "
                    f"G loss {s.g_loss:.3f} D(x) {s.d_real:.2f} D(G(z)) {s.d_fake:.2f}"
                )
        run.epoch += 1
        _progress_grid(_generator(p) if run.average is None else run.average, watch, recipe.name, run.epoch)
        checkpoints.save(checkpoint, recipe.name, p, run)
        log(f"epoch {run.epoch}/{epochs} took {time.perf_counter() - started:.1f} s; checkpoint {checkpoint}")
        if time_limit is not None and time.perf_counter() - began >= time_limit:
            break


def _watch(recipe: GanRecipe, seed: int, device: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The progress grid's fixed latents: 64, or for a conditional G 8 latents x every class
    (one row per latent, so each row shows one handwriting drawing every digit)."""
    gen = torch.Generator().manual_seed(seed)
    k = recipe.cfg.num_classes
    if not k:
        return torch.randn(64, recipe.cfg.nz, generator=gen).to(device), None
    z = torch.randn(8, recipe.cfg.nz, generator=gen).repeat_interleave(k, 0)
    return z.to(device), torch.arange(k).repeat(8).to(device)


@torch.no_grad()
def _ema_update(average: nn.Module, current: nn.Module, decay: float) -> None:
    for a, c in zip(average.parameters(), current.parameters()):
        a.lerp_(c, 1 - decay)


def _progress_grid(
    generator: AnyGenerator, watch: tuple[torch.Tensor, torch.Tensor | None], name: str, epoch: int
) -> None:
    """var/train/<name>-epochNN.png: fixed latents, to watch training from outside."""
    z, labels = watch
    with torch.no_grad():
        images = (generator(z) if labels is None else generator(z, labels)).cpu()
    PROGRESS_DIR.mkdir(parents=True, exist_ok=True)
    columns = 8 if labels is None else generator.cfg.num_classes
    grid_image(images, columns).save(PROGRESS_DIR / f"{name}-epoch{epoch:02d}.png")


def grid_image(images: torch.Tensor, columns: int = 8):
    """(N, C, H, W) in [0,1] -> one PIL image, ``columns`` wide, 2-pixel gaps."""
    n, c, h, w = images.shape
    rows = -(-n // columns)
    canvas = torch.ones(c, rows * (h + 2), columns * (w + 2))
    for i, x in enumerate(images):
        r, col = divmod(i, columns)
        canvas[:, r * (h + 2) : r * (h + 2) + h, col * (w + 2) : col * (w + 2) + w] = x
    return imaging.tensor_to_image(canvas)


@torch.no_grad()
def recalibrate_batchnorm(generator: AnyGenerator, seed: int, device: str, batches: int = 100, size: int = 256) -> None:
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


def train_attributes(
    name: str, images: torch.Tensor, attrs: torch.Tensor, out_dir: Path, seed: int, dry_run: bool, device: str, log: Log
) -> AttributeSpec:
    """Train on all but the last HELD_OUT faces; report accuracy per attribute on those."""
    net = faces.attribute_net(ATTR_WIDTH).to(device)
    x_train, y_train = images[: -faces.HELD_OUT], attrs[: -faces.HELD_OUT]
    x_test, y_test = images[-faces.HELD_OUT :], attrs[-faces.HELD_OUT :]
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
    return AttributeSpec(
        names=faces.ATTRIBUTES,
        config={"width": ATTR_WIDTH},
        weights=WeightsRef(file=path.name, sha256=sha256_file(path)),
        metrics={"held_out_faces": len(y_test), "per_attribute": metrics, "epochs": epochs, "seed": seed},
    )


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
        out[name] = {
            "accuracy": round(float((p == t).float().mean()), 4),
            "balanced_accuracy": round(float((tpr + tnr) / 2), 4),
            "positives": int(t.sum()),
        }
    return out


# --- saving and measuring -----------------------------------------------------------------------


def _save(
    p: Players, recipe: GanRecipe, out_dir: Path, attributes: AttributeSpec | None, metrics: dict
) -> GeneratorSpec:
    out_dir.mkdir(parents=True, exist_ok=True)
    refs = {}
    for role, net in (("generator", p.generator), ("discriminator", p.discriminator)):
        path = out_dir / f"{recipe.name}-{role}.safetensors"
        state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
        save_file(state, str(path), metadata={"name": recipe.name, "role": role})
        refs[role] = WeightsRef(file=path.name, sha256=sha256_file(path))
    return GeneratorSpec(
        name=recipe.name,
        title=recipe.title,
        dataset=recipe.dataset,
        config=recipe.cfg.to_dict(),
        judge=recipe.judge,
        measured_by=list(recipe.measured_by) or None,
        attributes=attributes,
        metrics=metrics,
        licence=faces.LICENCE if recipe.dataset == "celeba" else None,
        **refs,
    )


def measure(
    spec: GeneratorSpec,
    settings: Settings,
    models_dir: Path,
    *,
    samples: int = QUALITY_SAMPLES,
    device: str = "cpu",
    log: Log = print,
) -> dict:
    """The generator's quality figures, as recorded in the manifest and printed by ``advlab eval``.

    A conditional generator is asked for every class equally often (sample i: class i mod K)."""
    entry = load_generator(spec, models_dir, torch.device(device))
    k = entry.loaded_generator.cfg.num_classes
    requested = quality.balanced_labels(samples, k) if k else None
    images = quality.generate(entry.loaded_generator, samples, QUALITY_SEED, device, labels=requested)
    if spec.judge:
        return _judge_metrics(spec, settings, images, requested, device, log)
    return _face_metrics(entry, settings, images, device, log)


def _judge_metrics(
    spec: GeneratorSpec,
    settings: Settings,
    samples: torch.Tensor,
    requested: torch.Tensor | None,
    device: str,
    log: Log,
) -> dict:
    """Each judge's report (the first, spec.judge, also at the top level, as before), what all of
    them agree on, and the Fréchet distance in the first judge's features."""
    assert spec.judge is not None  # measure() asks for judges' figures only when the spec names one
    names = [spec.judge, *(spec.measured_by or [])]
    zoo = Zoo.load(settings, only=set(names))
    judges: dict[str, Classifier] = {}
    for n in names:
        model = zoo.entries[n].model if n in zoo.entries else None
        if model is not None:  # the entry is available
            judges[n] = model.to(device)
    if spec.judge not in judges:
        raise RuntimeError(f"{spec.name}: its judge {spec.judge} is not available in {settings.models_dir}")
    for missing in set(names) - set(judges):
        log(f"{spec.name}: judge {missing} is not available in {settings.models_dir}; measured without it")
    probs = {n: quality.judge_probs(samples, judge, device) for n, judge in judges.items()}
    reports = {n: quality.judge_report(p, requested) for n, p in probs.items()}
    for n, r in reports.items():
        log(
            f"{spec.name}: {n}: {r['confident_share']:.1%} of {len(samples)} samples with p >= 0.9; class shares "
            f"{r['class_shares']}" + (f"; requested digit {r['requested_share']:.1%}" if requested is not None else "")
        )
    agreed = quality.agreement(list(probs.values()), requested)
    log(f"{spec.name}: all of {', '.join(judges)} agree: {agreed}")
    return {
        "judge": spec.judge,
        **reports[spec.judge],
        "judges": reports,
        **agreed,
        **_frechet(spec, settings, judges[spec.judge], samples, device, log),
    }


def _frechet(
    spec: GeneratorSpec, settings: Settings, judge: Classifier, samples: torch.Tensor, device: str, log: Log
) -> dict:
    net = judge.net
    assert isinstance(net, nn.Sequential), "the Fréchet features are the penultimate layer of a Sequential judge"
    penultimate = lambda x: net[:-1](judge.normalize(x))  # the hidden 128-d layer
    real = min(10_000, max(len(samples), 1000))  # the whole test set for a full measurement
    test, _ = data.load_split(spec.dataset, settings.data_dir, train=False)
    train, _ = data.load_split(spec.dataset, settings.data_dir, train=True)
    test = test[:real]
    f_test = quality.features(penultimate, test, device)
    fid = quality.frechet_distance(quality.features(penultimate, samples, device), f_test)
    baseline = quality.frechet_distance(quality.features(penultimate, train[: len(test)], device), f_test)
    log(f"{spec.name}: Fréchet distance {fid:.2f} (train vs test {baseline:.2f})")
    return {
        "frechet_distance": round(fid, 3),
        "frechet_baseline_train_vs_test": round(baseline, 3),
        "frechet_features": f"{spec.judge} penultimate layer (128-d), {len(test)} test images",
    }


def _face_metrics(entry, settings: Settings, samples: torch.Tensor, device: str, log: Log) -> dict:
    images, attrs = faces.load_faces(settings.data_dir)
    net = entry.attributes
    pooled = lambda x: net[:-2](x)
    held_out = images[-faces.HELD_OUT :].float().div(255)
    seen = images[: faces.HELD_OUT].float().div(255)
    f_held = quality.features(pooled, held_out, device)
    fid = quality.frechet_distance(quality.features(pooled, samples[: faces.HELD_OUT], device), f_held)
    baseline = quality.frechet_distance(quality.features(pooled, seen, device), f_held)
    with torch.no_grad():
        rates = torch.cat([torch.sigmoid(net(x.to(device))).cpu() > 0.5 for x in samples.split(500)]).float().mean(0)
    shares = {a: round(float(r), 4) for a, r in zip(faces.ATTRIBUTES, rates)}
    data_shares = {a: round(float(r), 4) for a, r in zip(faces.ATTRIBUTES, attrs.mean(0))}
    log(f"{entry.spec.name}: Fréchet distance {fid:.2f} (real vs real {baseline:.2f}); attribute shares {shares}")
    return {
        "samples": len(samples),
        "attribute_shares": shares,
        "data_attribute_shares": data_shares,
        "frechet_distance": round(fid, 3),
        "frechet_baseline_real_vs_real": round(baseline, 3),
        "frechet_features": f"the attribute classifier's pooled layer (128-d), {faces.HELD_OUT} held-out faces",
    }
