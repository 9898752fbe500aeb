"""Running an attack on a batch: seeding, the goal, timing, distances and the trajectory.

This is the one entry point for the API, ``advlab eval``-style measurements and benchmarks.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import torch
from torch import nn

from app.attacks.base import Attack, Budget, Goal, Params, Recorder, record_batch
from app.attacks.norms import distances
from app.attacks.saving import saved_pixels, survive_saving

SNAPSHOTS = 24  # about this many images per trajectory, enough to scrub through


@dataclass
class Outcome:
    """A batch's result; tensors are on the CPU. Trajectory fields describe image 0."""

    start: torch.Tensor  # (N, C, H, W) the image attacked (the input, or noise)
    adversarial: torch.Tensor  # (N, C, H, W)
    saved: torch.Tensor  # (N, C, H, W) the adversarial as its 8-bit PNG keeps it (attacks/saving.py)
    probs_before: torch.Tensor  # (N, K)
    probs_after: torch.Tensor  # (N, K)
    probs_saved: torch.Tensor  # (N, K) for ``saved``
    success: torch.Tensor  # (N,) bool
    distances: dict[str, torch.Tensor]  # l0, l2, linf, psnr: (N,) of ``saved``, what the user downloads
    steps: int
    seconds: float
    trajectories: list[list[dict]]  # per traced image: image 0, or every image with every_image
    snapshot_lists: list[list[tuple[int, torch.Tensor]]]

    @property
    def trajectory(self) -> list[dict]:
        return self.trajectories[0] if self.trajectories else []

    @property
    def snapshots(self) -> list[tuple[int, torch.Tensor]]:
        return self.snapshot_lists[0] if self.snapshot_lists else []


def run_attack(
    attack: Attack,
    model: nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    target: torch.Tensor | None,
    params: Params,
    seed: int = 0,
    time_limit: float | None = None,
    trace: bool = True,
    cancel: threading.Event | None = None,
    every_image: bool = False,
) -> Outcome:
    """x: (N, C, H, W) in [0,1] on the model's device; labels, target: (N,) class indices.

    ``trace`` records image 0's trajectory, or each image's with ``every_image`` (a batch of
    requests). ``cancel``, when set, stops the attack at its next step (the client went away)."""
    generator = torch.Generator().manual_seed(seed)
    goal = Goal(labels, target)
    attack.check(x, goal)
    started = time.perf_counter()
    budget = Budget(time_limit, cancel=cancel)
    start = attack.start(x, generator)
    traced = range(len(x) if every_image else 1) if trace else range(0)
    recorders = [_recorder(params, int(labels[i]), None if target is None else int(target[i]), budget) for i in traced]
    recorder = recorders if every_image else (recorders[0] if recorders else None)
    adversarial, steps = attack.perturb(model, start, goal, params, generator, recorder)
    if getattr(params, "survive_saving", False):
        adversarial = survive_saving(model, start, adversarial, goal)
    saved = saved_pixels(adversarial, start)
    original = saved_pixels(start, start)  # the start as its own PNG keeps it (itself, unless noise)
    with torch.no_grad():  # one forward for all: small batches cost about what one image does
        if goal.start_logits is not None:
            before = goal.start_logits
            after, after_saving = model(torch.cat([adversarial, saved])).split(len(x))
        else:
            before, after, after_saving = model(torch.cat([start, adversarial, saved])).split(len(x))
    seconds = time.perf_counter() - started
    for r in recorders:
        r.snapshot_every = 1  # always keep the final image
    record_batch(recorders, steps, start, adversarial, after)
    return Outcome(
        start=start.cpu(),
        adversarial=adversarial.detach().cpu(),
        saved=saved.cpu(),
        probs_before=torch.softmax(before, 1).cpu(),
        probs_after=torch.softmax(after, 1).cpu(),
        probs_saved=torch.softmax(after_saving, 1).cpu(),
        success=goal.achieved(after).cpu(),
        distances={k: v.cpu() for k, v in distances(saved, original).items()},
        steps=steps,
        seconds=seconds,
        trajectories=[r.steps for r in recorders],
        snapshot_lists=[r.snapshots for r in recorders],
    )


def _recorder(params: Params, label: int, target: int | None, budget: Budget) -> Recorder:
    planned = _planned_steps(params)
    return Recorder(label, target, snapshot_every=max(1, -(-planned // SNAPSHOTS)), budget=budget)


def _planned_steps(params: Params) -> int:
    """Roughly how many steps the recorder will see (for spacing snapshots)."""
    fields = dict(params)
    steps = fields.get("steps", 1) * fields.get("restarts", 1) * fields.get("search_steps", 1)
    return int(steps)
