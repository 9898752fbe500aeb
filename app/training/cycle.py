"""``advlab train cyclegan-faces``: CycleGAN between faces that do not smile and faces that smile.

The domains are split by CelebA's Smiling label (about 48% positive, so they are balanced), on all
but the last HELD_OUT faces; the pairs in a batch are unrelated faces, one from each domain.
Each step trains both translators together (G: A -> B, F: B -> A) against

    least-squares GAN loss of D_B on G(a) and of D_A on F(b)
  + cycle_weight    · (|F(G(a)) - a| + |G(F(b)) - b|)          (L1, pixels in [0, 1])
  + identity_weight · (|G(b) - b| + |F(a) - a|)                (a face already in the target domain stays)

then both discriminators on real pictures against the translations of this step (no history pool:
with a small batch of fresh translations every step the discriminators did not oscillate here).
Adam 2e-4, betas (0.5, 0.999); the learning rate stays for the first half of the epochs and falls
linearly to zero over the second, as CycleGAN's. Random left-right flips of both domains.

The whole dataset (uint8) sits on the training device and every random draw is made there: no step
waits for the host except the logging steps (every LOG_EVERY). After every epoch a checkpoint (all
four networks, both optimisers, the random streams, the epochs done) goes to
``var/train/cyclegan-faces/checkpoint.pt`` (beside the weights for a dry run or an ``--out`` run),
and a progress picture to ``var/train/cyclegan-faces-epochNN.png``; ``--resume`` goes on from it.

Measured on the HELD_OUT faces (see ``measure``) by dcgan-faces' attribute classifier.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from app.config import Settings
from app.gan import faces
from app.gan.cycle import PatchDiscriminator, Translator, TranslatorConfig, cycle_error, cycle_loss, lsgan_loss
from app.gan.zoo import Generators
from app.media import data
from app.training import checkpoints
from app.training.gans import checkpoint_path, grid_image
from app.zoo.manifest import TranslatorSpec, WeightsRef, read_generators, sha256_file

Log = Callable[[str], None]
DRY_RUN_STEPS = 3
DRY_RUN_FACES = 200  # a dry run reads only the first faces (seconds, not the whole sample) ...
DRY_RUN_HELD_OUT = 50  # ... and measures on the last of those
LOG_EVERY = 100  # steps; only these read figures back from the device
EVAL_BATCH = 250
WATCH = 8  # held-out faces per domain in the progress picture


@dataclass(frozen=True)
class CycleRecipe:
    name: str
    title: str
    attribute: str  # a column of faces.ATTRIBUTES: domain A lacks it, B has it
    domains: tuple[str, str]
    directions: tuple[str, str]  # names of A -> B and B -> A
    cfg: TranslatorConfig
    epochs: int
    batch_size: int = 16
    lr: float = 2e-4
    cycle_weight: float = 10.0
    identity_weight: float = 5.0  # CycleGAN's 0.5 x the cycle weight: keeps colours and skin tones
    flip: bool = True
    judge: str = "dcgan-faces"  # its attribute classifier says whether the attribute flipped


RECIPES = {
    r.name: r
    for r in [
        CycleRecipe(
            "cyclegan-faces",
            "CycleGAN between faces that do not smile and faces that smile (CelebA, 64x64)",
            "Smiling",
            ("not smiling", "smiling"),
            ("smile", "unsmile"),
            TranslatorConfig(),
            epochs=15,  # the shipped weights: about 430 s on an H200 (one CPU epoch took 30 minutes on 2 cores,
            # and gave 30% / 48% flipped, cycle L1 0.087)
        ),
    ]
}


@dataclass
class CycleNets:
    """The four players and their two optimisers (one for both translators, one for both critics)."""

    forward: Translator  # G: A -> B
    backward: Translator  # F: B -> A
    critic_a: PatchDiscriminator  # real A vs F(b)
    critic_b: PatchDiscriminator  # real B vs G(a)
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer

    @classmethod
    def build(cls, recipe: CycleRecipe, device: str) -> CycleNets:
        g, f = Translator(recipe.cfg).to(device), Translator(recipe.cfg).to(device)
        da, db = PatchDiscriminator(recipe.cfg).to(device), PatchDiscriminator(recipe.cfg).to(device)
        for net in (g, f, da, db):
            net.apply(_init)
        betas = (0.5, 0.999)
        return cls(
            g,
            f,
            da,
            db,
            torch.optim.Adam([*g.parameters(), *f.parameters()], lr=recipe.lr, betas=betas),
            torch.optim.Adam([*da.parameters(), *db.parameters()], lr=recipe.lr, betas=betas),
        )

    def modules(self) -> dict[str, nn.Module]:
        return {
            "forward": self.forward,
            "backward": self.backward,
            "critic_a": self.critic_a,
            "critic_b": self.critic_b,
        }


def _init(m: nn.Module) -> None:
    """CycleGAN's initialisation: convolutions N(0, 0.02), norm scales N(1, 0.02)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.InstanceNorm2d) and m.weight is not None:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


@dataclass
class CycleRun:
    order: torch.Generator  # CPU: the order of each domain's faces
    noise: torch.Generator  # on the training device: flips
    epoch: int = 0


def train(
    recipe: CycleRecipe,
    settings: Settings,
    out_dir: Path,
    *,
    seed: int,
    dry_run: bool,
    device: str,
    log: Log = print,
    epochs: int | None = None,
    resume: Path | None = None,
    time_limit: float | None = None,
) -> TranslatorSpec:
    """Train (``epochs`` overrides the recipe's; ``resume`` continues a checkpoint; ``time_limit``
    ends the run after the epoch during which that many seconds have passed), save both
    translators in ``out_dir``, measure them on the held-out faces; return the manifest entry."""
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = device.startswith("cuda")  # fixed shapes: pick the fastest kernels once
    images, attrs = faces.load_faces(settings.data_dir, limit=DRY_RUN_FACES if dry_run else None)
    held = DRY_RUN_HELD_OUT if dry_run else faces.HELD_OUT
    has = attrs[:-held, faces.ATTRIBUTES.index(recipe.attribute)].bool()
    domain_a, domain_b = images[:-held][~has], images[:-held][has]
    log(f"{recipe.name}: {len(domain_a)} faces {recipe.domains[0]}, {len(domain_b)} {recipe.domains[1]}")
    total = epochs or (1 if dry_run else recipe.epochs)
    nets = CycleNets.build(recipe, device)
    run = CycleRun(torch.Generator().manual_seed(seed), torch.Generator(device=device).manual_seed(seed + 2))
    if resume:
        load_checkpoint(resume, recipe.name, nets, run)
        log(f"{recipe.name}: resumed from {resume} after epoch {run.epoch}")
    resumed_from = run.epoch
    checkpoint = checkpoint_path(recipe.name, out_dir, dry_run or out_dir != settings.models_dir)
    watch = _watch(images[-held:], attrs[-held:], recipe)
    started = time.perf_counter()
    _fit(nets, run, recipe, domain_a, domain_b, total, dry_run, device, checkpoint, watch, log, time_limit)
    seconds = time.perf_counter() - started
    if run.epoch < total:  # stopped by the time limit: record the command that repeats this run
        log(f"{recipe.name}: time limit of {time_limit} s reached after epoch {run.epoch} of {total}")
        epochs = run.epoch
    command = f"advlab train {recipe.name} --seed {seed}" + (f" --epochs {epochs}" if epochs else "")
    metrics = {
        "command": command + (" --dry-run" if dry_run else ""),
        "seed": seed,
        "epochs": 0 if dry_run else run.epoch,
        "steps_per_epoch": _steps(recipe, domain_a, domain_b, dry_run),
        "batch_size": recipe.batch_size,
        "train_seconds": round(seconds, 1),
        **({"resumed_from_epoch": resumed_from} if resume else {}),
        "device": device,
        "torch": torch.__version__,
        "losses": {"gan": "least squares", "cycle_weight": recipe.cycle_weight, "identity": recipe.identity_weight},
        "train_faces": {recipe.domains[0]: len(domain_a), recipe.domains[1]: len(domain_b)},
        "data_sha256": _checksum(settings.data_dir),
    }
    spec = _save(nets, recipe, out_dir, metrics)
    judge = judge_net(settings, spec, device)
    spec.metrics["held_out"] = measure(spec, out_dir, judge, images[-held:], attrs[-held:], device=device, log=log)
    spec.metrics["held_out"]["judge_sha256"] = judge_checksum(settings, spec)
    return spec


def _steps(recipe: CycleRecipe, a: torch.Tensor, b: torch.Tensor, dry_run: bool) -> int:
    """Steps per epoch: every face of the smaller domain once (and as many of the larger)."""
    return DRY_RUN_STEPS if dry_run else min(len(a), len(b)) // recipe.batch_size


def _checksum(data_dir: Path) -> dict[str, str]:
    _, attr_file = faces.face_folder(data_dir)
    return {attr_file.name: data._digest(attr_file, "sha256")}


def _fit(
    nets: CycleNets,
    run: CycleRun,
    recipe: CycleRecipe,
    domain_a: torch.Tensor,
    domain_b: torch.Tensor,
    epochs: int,
    dry_run: bool,
    device: str,
    checkpoint: Path,
    watch: torch.Tensor,
    log: Log,
    time_limit: float | None = None,
) -> None:
    """Train from run.epoch to ``epochs``, checkpointing after each epoch (and stopping after the
    epoch that passes ``time_limit`` seconds)."""
    a_all, b_all = domain_a.to(device), domain_b.to(device)  # uint8, (N, 3, 64, 64)
    steps = _steps(recipe, domain_a, domain_b, dry_run)
    n = steps * recipe.batch_size

    def batch(images: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        x = images[idx].float().div_(255)
        if not recipe.flip:
            return x
        flip = torch.rand(len(x), generator=run.noise, device=device) < 0.5
        return torch.where(flip[:, None, None, None], x.flip(3), x)

    for net in nets.modules().values():
        net.train()
    began = time.perf_counter()
    while run.epoch < epochs:
        started = time.perf_counter()
        lr = recipe.lr * min(1.0, 2 * (1 - run.epoch / epochs))  # flat, then linearly to 0 over the second half
        for opt in (nets.opt_g, nets.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        ia = torch.randperm(len(a_all), generator=run.order)[:n].to(device).split(recipe.batch_size)
        ib = torch.randperm(len(b_all), generator=run.order)[:n].to(device).split(recipe.batch_size)
        for step in range(steps):
            losses = train_step(nets, batch(a_all, ia[step]), batch(b_all, ib[step]), recipe)
            if step % LOG_EVERY == 0 or step == steps - 1:
                figures = " ".join(f"{k} {float(v):.3f}" for k, v in losses.items())
                log(f"epoch {run.epoch + 1}/{epochs} step {step + 1}/{steps} lr {lr:.2e} {figures}")
        run.epoch += 1
        _progress_picture(nets, watch, recipe.name, run.epoch)
        save_checkpoint(checkpoint, recipe.name, nets, run)
        log(f"epoch {run.epoch}/{epochs} took {time.perf_counter() - started:.1f} s; checkpoint {checkpoint}")
        if time_limit is not None and time.perf_counter() - began >= time_limit:
            break


def train_step(nets: CycleNets, a: torch.Tensor, b: torch.Tensor, recipe: CycleRecipe) -> dict[str, torch.Tensor]:
    """One update of both translators, then of both critics. a, b: (N, 3, 64, 64) in [0, 1],
    unrelated faces of domain A and B. Returns the losses as device tensors (no host sync)."""
    g, f, da, db = nets.forward, nets.backward, nets.critic_a, nets.critic_b
    da.requires_grad_(False)  # the translators' update needs gradients through the critics, not for them
    db.requires_grad_(False)
    fake_b, fake_a = g(a), f(b)
    adversarial = lsgan_loss(db(fake_b), True) + lsgan_loss(da(fake_a), True)
    cycle = cycle_loss(a, f(fake_b)) + cycle_loss(b, g(fake_a))
    loss = adversarial + recipe.cycle_weight * cycle
    identity = torch.zeros((), device=a.device)
    if recipe.identity_weight:
        identity = cycle_loss(b, g(b)) + cycle_loss(a, f(a))
        loss = loss + recipe.identity_weight * identity
    nets.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    nets.opt_g.step()
    da.requires_grad_(True)
    db.requires_grad_(True)
    fake_a, fake_b = fake_a.detach(), fake_b.detach()
    critics = 0.5 * (lsgan_loss(db(b), True) + lsgan_loss(db(fake_b), False))
    critics = critics + 0.5 * (lsgan_loss(da(a), True) + lsgan_loss(da(fake_a), False))
    nets.opt_d.zero_grad(set_to_none=True)
    critics.backward()
    nets.opt_d.step()
    return {
        "G adv": adversarial.detach(),
        "cycle": cycle.detach(),
        "identity": identity.detach(),
        "D": critics.detach(),
    }


# --- checkpoints and progress -------------------------------------------------------------------


def save_checkpoint(path: Path, name: str, nets: CycleNets, run: CycleRun) -> None:
    state = {
        "name": name,
        "epoch": run.epoch,
        **{role: net.state_dict() for role, net in nets.modules().items()},
        "opt_g": nets.opt_g.state_dict(),
        "opt_d": nets.opt_d.state_dict(),
        "order_rng": run.order.get_state(),
        "noise_rng": run.noise.get_state(),
        "torch_rng": torch.get_rng_state(),
    }
    checkpoints.save_atomic(path, state)


def load_checkpoint(path: Path, name: str, nets: CycleNets, run: CycleRun) -> None:
    """Put a checkpoint's state into freshly built networks and run state (same recipe)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["name"] != name:
        raise ValueError(f"{path} is a checkpoint of {state['name']}, not of {name}")
    for role, net in nets.modules().items():
        net.load_state_dict(state[role])
    nets.opt_g.load_state_dict(state["opt_g"])
    nets.opt_d.load_state_dict(state["opt_d"])
    run.order.set_state(state["order_rng"])
    run.noise.set_state(state["noise_rng"])
    torch.set_rng_state(state["torch_rng"])
    run.epoch = state["epoch"]


def _watch(images: torch.Tensor, attrs: torch.Tensor, recipe: CycleRecipe) -> torch.Tensor:
    """The progress picture's fixed held-out faces: WATCH of domain A, then WATCH of domain B."""
    has = attrs[:, faces.ATTRIBUTES.index(recipe.attribute)].bool()
    return torch.cat([images[~has][:WATCH], images[has][:WATCH]]).float().div(255)


@torch.no_grad()
def _progress_picture(nets: CycleNets, watch: torch.Tensor, name: str, epoch: int) -> None:
    """var/train/<name>-epochNN.png: rows a, G(a), F(G(a)), then b, F(b), G(F(b))."""
    device = next(nets.forward.parameters()).device
    g, f = nets.forward.eval(), nets.backward.eval()
    a, b = watch[: len(watch) // 2].to(device), watch[len(watch) // 2 :].to(device)
    rows = [a, g(a), f(g(a)), b, f(b), g(f(b))]
    g.train()
    f.train()
    checkpoints.CHECKPOINT_DIR.mkdir(parents=True, exist_ok=True)
    grid_image(torch.cat(rows).cpu(), len(a)).save(checkpoints.CHECKPOINT_DIR / f"{name}-epoch{epoch:02d}.png")


# --- saving and measuring -----------------------------------------------------------------------


def _save(nets: CycleNets, recipe: CycleRecipe, out_dir: Path, metrics: dict) -> TranslatorSpec:
    out_dir.mkdir(parents=True, exist_ok=True)
    refs = {}
    for role in ("forward", "backward"):
        path = out_dir / f"{recipe.name}-{role}.safetensors"
        state = {k: v.detach().cpu().contiguous() for k, v in nets.modules()[role].state_dict().items()}
        save_file(state, str(path), metadata={"name": recipe.name, "role": role})
        refs[role] = WeightsRef(file=path.name, sha256=sha256_file(path))
    return TranslatorSpec(
        name=recipe.name,
        title=recipe.title,
        dataset="celeba",
        config=recipe.cfg.to_dict(),
        attribute=recipe.attribute,
        domains=recipe.domains,
        directions=recipe.directions,
        judge=recipe.judge,
        metrics=metrics,
        licence=faces.LICENCE,
        **refs,
    )


def judge_net(settings: Settings, spec: TranslatorSpec, device: str) -> nn.Module:
    """The attribute classifier of the generator that ``spec.judge`` names (dcgan-faces')."""
    if spec.judge is None:
        raise RuntimeError(f"{spec.name} names no judge")
    entry = Generators.load(settings, torch.device(device), only={spec.judge}).get(spec.judge)
    if entry.attributes is None:
        raise RuntimeError(f"{spec.judge} has no attribute classifier to judge {spec.name}")
    return entry.attributes


def judge_checksum(settings: Settings, spec: TranslatorSpec) -> str | None:
    """The sha256 of the judging classifier's weights: which classifier the figures are by (a
    retrained dcgan-faces reads differently, and the figures must then be measured again)."""
    gan = next((g for g in read_generators(settings.models_dir) if g.name == spec.judge), None)
    return gan.attributes.weights.sha256 if gan is not None and gan.attributes is not None else None


@torch.no_grad()
def measure(
    spec: TranslatorSpec,
    models_dir: Path,
    judge: nn.Module,
    images: torch.Tensor,
    attrs: torch.Tensor,
    *,
    device: str,
    log: Log = print,
) -> dict:
    """Each direction on the held-out faces that start in its source domain by CelebA's label.

    ``flipped``: the share the judge reads as the target domain after translation (p > 0.5);
    ``judged_source``: the share it read as the source domain before (its own accuracy there);
    ``flipped_of_judged_source``: the flipped share among those (where judge and label agree);
    ``cycle_l1``: mean |F(G(x)) - x|; ``change_l1``: mean |G(x) - x| (how much the picture moved);
    ``others_kept``: per other attribute, the share whose judged value is the same for G(x) as for
    x; ``all_others_kept``: the share that keeps every other attribute."""
    from app.gan.translators import load_translator

    entry = load_translator(spec, models_dir, torch.device(device))
    if not entry.available:
        raise RuntimeError(f"{spec.name} cannot be measured: {entry.reason}")
    column = faces.ATTRIBUTES.index(spec.attribute)
    has = attrs[:, column].bool()
    figures: dict[str, dict] = {}
    for direction, source_has in zip(spec.directions, (False, True)):
        there, back = entry.pair(direction)
        x = images[has == source_has].float().div(255)
        outs = [_translate(there, back, judge, b.to(device)) for b in x.split(EVAL_BATCH)]
        p_x, p_y, cyc, change = (torch.cat(parts) for parts in zip(*outs))
        figures[direction] = _direction_figures(p_x > 0.5, p_y > 0.5, cyc, change, column, source_has)
        log(f"{spec.name}: {direction}: {figures[direction]}")
    return {
        "faces": len(images),
        "source_domain_by": f"CelebA's {spec.attribute} label",
        "judge": f"{spec.judge} attribute classifier, p > 0.5",
        "directions": figures,
    }


def _translate(
    there: nn.Module, back: nn.Module, judge: nn.Module, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    y = there(x)
    return (
        torch.sigmoid(judge(x)).cpu(),
        torch.sigmoid(judge(y)).cpu(),
        cycle_error(x, back(y)).cpu(),
        (y - x).abs().flatten(1).mean(1).cpu(),
    )


def _direction_figures(
    before: torch.Tensor, after: torch.Tensor, cyc: torch.Tensor, change: torch.Tensor, column: int, source_has: bool
) -> dict:
    """before, after: (N, A) bool, the judge's reading of x and of its translation."""
    judged_source = before[:, column] == source_has
    flipped = after[:, column] != source_has
    others = [i for i in range(before.shape[1]) if i != column]
    kept = before[:, others] == after[:, others]
    return {
        "faces": len(before),
        "flipped": round(float(flipped.float().mean()), 4),
        "judged_source": round(float(judged_source.float().mean()), 4),
        "flipped_of_judged_source": round(float(flipped[judged_source].float().mean()), 4),
        "cycle_l1": round(float(cyc.mean()), 4),
        "change_l1": round(float(change.mean()), 4),
        "others_kept": {faces.ATTRIBUTES[i]: round(float(k), 4) for i, k in zip(others, kept.float().mean(0))},
        "all_others_kept": round(float(kept.all(1).float().mean()), 4),
    }
