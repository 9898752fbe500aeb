"""Attacks for the API and the pages: load and prepare the image, run the attack on the executor,
store the images it produced, and describe the result. Routes call ``attack``; torch stays here."""

from __future__ import annotations

import difflib
import json
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlencode

import numpy as np
import torch
from starlette.concurrency import run_in_threadpool

from app.attacks import ATTACKS, Attack, Goal, Params
from app.attacks.fgsm import Sweep, sweep
from app.attacks.run import Outcome, run_attack
from app.attacks.saving import saved_pixels
from app.config import Settings
from app.errors import BadRequest, InvalidField, NotFound
from app.media import imaging
from app.runtime.executor import Disconnected, Executor
from app.schemas import ImageInfo, Prediction, parse, top_predictions
from app.schemas.attacks import (
    MAX_TOP_K,
    AttackInfo,
    AttackRequest,
    AttackResponse,
    Norms,
    SavedCheck,
    Snapshot,
    Step,
    SweepRequest,
    SweepResponse,
    SweepStep,
)
from app.services import ResultCache
from app.services.classify import ClassifierService
from app.services.images import ImageService
from app.zoo import Zoo, ZooEntry
from app.zoo.architectures import Classifier

# A result this small (an MNIST digit: 784 values; three 28x28 PNGs, about 0.5 ms) is described
# on the event loop: handing it to a worker thread and back would cost about as much again.
# Larger ones (ImageNet crops: tens of ms of PNG encoding) go to a thread.
INLINE_RESULT_VALUES = 4096


def list_attacks() -> list[AttackInfo]:
    return [describe(a) for a in ATTACKS.values()]


def describe(a: Attack) -> AttackInfo:
    return AttackInfo(
        name=a.name,
        title=a.title,
        norm=a.norm,
        untargeted=a.supports_untargeted,
        targeted=a.supports_targeted,
        starts_from_noise=a.starts_from_noise,
        max_features=a.max_features,
        paper=a.paper,
        description=_doc(a),
        params_schema=a.Params.model_json_schema(),
    )


def _doc(a: Attack) -> str:
    """The attack's module docstring: what it does and the paper it comes from."""
    return (sys.modules[type(a).__module__].__doc__ or "").strip()


def get_attack(name: str) -> Attack:
    if name not in ATTACKS:
        raise NotFound(f"There is no attack {name[:80]!r}. Known attacks: {', '.join(ATTACKS)}.")
    return ATTACKS[name]


def parse_params(attack: Attack, raw: dict) -> Params:
    return parse(attack.Params, raw, f"Some of {attack.title}'s parameters are not valid")


def resolve_target(entry: ZooEntry, target: int | str | None) -> int | None:
    """A class index from an index or a label (case-insensitive); None for untargeted."""
    if target is None or target == "":
        return None
    if isinstance(target, str) and target.strip().lstrip("-").isdigit() and target.strip() not in entry.classes:
        target = int(target)
    if isinstance(target, int):
        if 0 <= target < len(entry.classes):
            return target
        raise InvalidField(
            "target", f"The target class must be between 0 and {len(entry.classes) - 1} for {entry.spec.name}."
        )
    by_label = {c.lower(): i for i, c in enumerate(entry.classes)}
    if target.strip().lower() in by_label:
        return by_label[target.strip().lower()]
    close = difflib.get_close_matches(target.strip().lower(), list(by_label), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(entry.classes[by_label[c]]) for c in close)}?" if close else ""
    raise InvalidField("target", f"{entry.spec.name} has no class called {target[:80]!r}.{hint}")


@dataclass
class _Job:
    x: torch.Tensor  # (1, C, H, W)
    truth: int | None
    target: int | None
    params: Params
    seed: int
    cancel: threading.Event | None = None


def _fixed_params(chosen: Attack, params: Params) -> str:
    """The params a batch must share (all but the attack's per-image ones), as a key."""
    fixed = {k: v for k, v in params.model_dump().items() if k not in chosen.per_image_params}
    return json.dumps(fixed, sort_keys=True)


def _run_batch(
    chosen: Attack, model: Classifier, device: torch.device, limit: float, jobs: list[_Job]
) -> list[tuple[Outcome, _Digest, int, int]]:
    """On the model thread: one attack over the jobs' images, traced per image. Each job gets the
    shared outcome and its digest, the label attacked (its truth, else the model's prediction)
    and its index."""
    x, labels, targets = _batch_inputs(model, device, jobs)
    params = jobs[0].params
    if len(jobs) > 1:  # per-image values as (N, 1, 1, 1) columns
        column = lambda k: torch.tensor([float(getattr(j.params, k)) for j in jobs], device=device).view(-1, 1, 1, 1)
        params = params.model_copy(update={k: column(k) for k in chosen.per_image_params})
    outcome = run_attack(
        chosen,
        model,
        x,
        torch.tensor(labels, device=device),
        targets,
        params,
        jobs[0].seed,
        time_limit=limit,
        cancel=jobs[0].cancel,
        every_image=len(jobs) > 1,
    )
    digest = _Digest.of(outcome)
    return [(outcome, digest, labels[i], i) for i in range(len(jobs))]


def _batch_inputs(
    model: Classifier, device: torch.device, jobs: list[_Job]
) -> tuple[torch.Tensor, list[int], torch.Tensor | None]:
    """The jobs' images as one batch (N, C, H, W) on the device, the label each moves away from (its
    truth, else the model's prediction on it) and the target classes (None: untargeted)."""
    x = torch.cat([j.x for j in jobs]).to(device)
    with torch.no_grad():
        predicted = model(x).argmax(1).tolist() if any(j.truth is None for j in jobs) else []
    labels = [j.truth if j.truth is not None else predicted[i] for i, j in enumerate(jobs)]
    targets = None if jobs[0].target is None else torch.tensor([j.target for j in jobs], device=device)
    return x, labels, targets


@dataclass
class _Digest:
    """A batch's outcome as 8-bit pixels (N, H, W, C) and plain numbers, converted for all images
    at once on the model thread: a batch of 32 slider requests then costs each of them a few list
    lookups rather than a few dozen small tensor operations."""

    original: np.ndarray
    adversarial: np.ndarray
    perturbation: np.ndarray  # 0.5 + scale · (adversarial − original), mid-grey where unchanged
    scales: list[float]  # per image: the amplification, so that the largest change reaches 0 or 1
    rounded_away: list[int]  # per image: values that 8-bit saving changes
    norms: list[Norms]
    success: list[bool]
    ranked: dict[str, tuple[list[list[float]], list[list[int]]]]  # before/after/saved: top probs, classes
    snapshots: list[list[tuple[int, np.ndarray]]]  # per image: (step, pixels) to scrub through

    @classmethod
    def of(cls, o: Outcome) -> _Digest:
        delta = o.saved - saved_pixels(o.start, o.start)  # what changed between the two PNGs
        biggest = delta.abs().flatten(1).amax(dim=1)
        scales = torch.where(biggest > 0, 0.5 / biggest.clamp_min(1e-12), torch.ones_like(biggest))
        rounded = (o.saved - o.adversarial).abs().gt(1e-6).flatten(1).sum(1)
        k = min(MAX_TOP_K, o.probs_after.shape[1])
        ranked = {
            name: (top.values.tolist(), top.indices.tolist())
            for name, top in (
                ("before", o.probs_before.topk(k)),
                ("after", o.probs_after.topk(k)),
                ("saved", o.probs_saved.topk(k)),
            )
        }
        d = {key: v.tolist() for key, v in o.distances.items()}
        norms = [
            Norms(l0=int(l0), l2=l2, linf=linf, psnr=None if psnr == float("inf") else psnr)
            for l0, l2, linf, psnr in zip(d["l0"], d["l2"], d["linf"], d["psnr"])
        ]
        return cls(
            original=imaging.to_uint8(o.start),
            adversarial=imaging.to_uint8(o.saved),
            perturbation=imaging.to_uint8(0.5 + scales.view(-1, 1, 1, 1) * delta),
            scales=scales.tolist(),
            rounded_away=rounded.tolist(),
            norms=norms,
            success=o.success.tolist(),
            ranked=ranked,
            snapshots=_snapshot_pixels(o.snapshot_lists),
        )

    def predictions(self, which: str, i: int, classes: list[str], k: int) -> list[Prediction]:
        values, indices = self.ranked[which]
        return top_predictions(values[i][:k], indices[i][:k], classes)


def top_k(probs: torch.Tensor, classes: list[str], k: int) -> list[Prediction]:
    top = torch.topk(probs, k)
    return top_predictions(top.values.tolist(), top.indices.tolist(), classes)


def _snapshot_pixels(snapshot_lists: list[list[tuple[int, torch.Tensor]]]) -> list[list[tuple[int, np.ndarray]]]:
    """Every trajectory image of every traced image as 8-bit pixels, converted in one go."""
    flat = [x for snapshots in snapshot_lists for _, x in snapshots]
    pixels = iter(imaging.to_uint8(torch.stack(flat)) if flat else [])
    return [[(step, next(pixels)) for step, _ in snapshots] for snapshots in snapshot_lists]


def param_fields(chosen: Attack, values: dict) -> list[dict]:
    """One form field per Params field, from its JSON schema: name, kind, bounds, value, help."""
    schema = chosen.Params.model_json_schema()["properties"]
    fields = []
    for key, prop in schema.items():
        low = prop.get("minimum", prop.get("exclusiveMinimum"))
        fields.append(
            {
                "name": key,
                "label": key.replace("_", " "),
                "kind": prop["type"],
                "help": prop.get("description", ""),
                "min": low,
                "max": prop.get("maximum"),
                "value": values.get(key, prop.get("default")),
                "step": 1 if prop["type"] == "integer" else "any",
            }
        )
    return fields


def permalink(result: AttackResponse) -> str:
    query = {
        "model": result.model,
        "image": result.image,
        "attack": result.attack,
        "target": "" if result.target is None else result.target,
        "seed": result.seed,
        "run": 1,
        **{k: str(v).lower() if isinstance(v, bool) else v for k, v in result.params.items()},
    }
    return "/attack?" + urlencode(query)


def trajectory_chart(result: AttackResponse, width: int = 360, height: int = 140) -> dict:
    """Polyline points (SVG user units) for the true- and target-class probability per step."""
    last = max(result.trajectory[-1].step, 1)

    def points(key: str) -> str:
        return " ".join(
            f"{s.step / last * width:.1f},{(1 - getattr(s, key)) * height:.1f}"
            for s in result.trajectory
            if getattr(s, key) is not None
        )

    return {
        "width": width,
        "height": height,
        "last_step": last,
        "true": points("true_prob"),
        "target": points("target_prob") if result.target is not None else "",
    }


# --- FGSM as a sweep over ε: one gradient, every slider position scored at once -------------------

# The slider's range and its number of positions per dataset; 28×28 data: 0 to 0.5 in steps of
# 0.01. Photos: 0 to 16/255 in steps of 0.5/255 (each position costs two ImageNet forwards).
SWEEP_GRID = {"imagenet": (16 / 255, 33)}
DEFAULT_GRID = (0.5, 51)
DEFAULT_EPS = {"imagenet": round(2 / 255, 6)}  # visible to the model, invisible to people


def model_defaults(chosen: Attack, entry: ZooEntry) -> dict:
    """The page's starting Params for this model: an L∞ budget people cannot see on photos (ε ≈ 2/255,
    step α ≈ 0.5/255), the attack's own defaults on digits. The API keeps the Params defaults."""
    if chosen.norm != "linf" or entry.spec.dataset not in DEFAULT_EPS:
        return {}
    eps = DEFAULT_EPS[entry.spec.dataset]
    return {k: v for k, v in {"eps": eps, "alpha": round(eps / 4, 6)}.items() if k in chosen.Params.model_fields}


def sweep_grid(entry: ZooEntry) -> list[float]:
    """The default ε values of a model's slider: evenly spaced from 0 to its maximum."""
    top, points = SWEEP_GRID.get(entry.spec.dataset, DEFAULT_GRID)
    return [round(top * i / (points - 1), 6) for i in range(points)]


def _check_eps(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise BadRequest(f"Every ε must be between 0 and 1 (pixel units); got {value:g}.")
    return value


def _sweep_batch(
    model: Classifier, device: torch.device, eps: list[float], jobs: list[_Job]
) -> list[tuple[Sweep, int, int, float]]:
    """On the model thread: one gradient and the grid's forwards for every job's image."""
    started = time.perf_counter()
    x, labels, targets = _batch_inputs(model, device, jobs)
    result = sweep(model, x, Goal(torch.tensor(labels, device=device), targets), eps).cpu()
    seconds = time.perf_counter() - started
    return [(result, labels[i], i, seconds) for i in range(len(jobs))]


class AttackService:
    """Attacks and FGSM sweeps on one picture: results kept by request (same request and seed, same
    result), the pages' context."""

    def __init__(
        self,
        zoo: Zoo,
        images: ImageService,
        classifier: ClassifierService,
        executor: Executor,
        results: ResultCache,
        settings: Settings,
    ) -> None:
        self.zoo, self.images, self.classifier, self.executor = zoo, images, classifier, executor
        self.results, self.settings = results, settings

    async def attack(self, name: str, req: AttackRequest, disconnected: Disconnected | None = None) -> AttackResponse:
        """Run one attack request, or answer it with the result kept from an identical one (the result
        cache: same request and seed, same result). ``disconnected`` (the request's is_disconnected) lets a
        client that goes away stop the work at the attack's next step; FGSM's one step is instead shared
        with identical requests that arrive while it runs, and finishes."""
        chosen = get_attack(name)
        params = parse_params(chosen, req.params)
        entry, model = self.zoo.model(req.model)
        target = resolve_target(entry, req.target)
        self.images.check(req.image)  # an evicted upload is gone, even if its result is kept
        key = ("attack", name, req.model, req.image, target, params.model_dump_json(), req.seed, req.top_k)
        if chosen.per_image_params:  # cheap: concurrent identical requests share one computation
            compute = partial(self._attack, chosen, req, entry, model, params, target, None)
            return await self.results.get(key, compute, self._images_kept)
        kept = self.results.kept(key, self._images_kept)
        if kept is not None:
            return kept
        result = await self._attack(chosen, req, entry, model, params, target, disconnected)
        self.results.keep(key, result)
        return result

    def _images_kept(self, r: AttackResponse) -> bool:
        return self.images.kept(r.original, r.adversarial, r.perturbation, *(s.image for s in r.snapshots))

    async def _attack(
        self,
        chosen: Attack,
        req: AttackRequest,
        entry: ZooEntry,
        model: Classifier,
        params: Params,
        target: int | None,
        disconnected: Disconnected | None,
    ) -> AttackResponse:
        name = chosen.name
        x = await self.images.model_input_async(req.image, entry)
        truth = self.images.true_label(req.image, entry.spec.dataset)
        limit = self.settings.request_timeout_s
        job = _Job(x, truth, target, params, req.seed)
        run = partial(_run_batch, chosen, model, self.zoo.device, limit)
        if chosen.per_image_params:  # concurrent requests for this model and attack share the device
            key = ("attack", req.model, name, target is None, _fixed_params(chosen, params))
            result = await self.executor.run_batched(key, job, run, timeout=limit + 5, disconnected=disconnected)
        else:
            job.cancel = threading.Event()
            result = await self.executor.run(
                lambda: run([job])[0], timeout=limit + 5, cancel=job.cancel, disconnected=disconnected
            )
        render = partial(self._response, name, req, entry, params, target, *result)
        return render() if x.numel() <= INLINE_RESULT_VALUES else await run_in_threadpool(render)

    def _response(
        self,
        name: str,
        req: AttackRequest,
        entry: ZooEntry,
        params: Params,
        target: int | None,
        o: Outcome,
        digest: _Digest,
        label: int,
        i: int,
    ) -> AttackResponse:
        """The response for image i of the outcome (a batch of requests shares one outcome)."""
        k = min(req.top_k or self.settings.top_k, len(entry.classes))
        saved_pred = digest.ranked["saved"][1][i][0]
        store = lambda pixels: self.images.store_image(imaging.array_to_image(pixels[i]))
        original, adversarial = store(digest.original), store(digest.adversarial)
        return AttackResponse(
            attack=name,
            model=req.model,
            image=req.image,
            seed=req.seed,
            params=params.model_dump(),
            target=target,
            target_label=None if target is None else entry.classes[target],
            label=label,
            label_name=entry.classes[label],
            original=original,
            adversarial=adversarial,
            perturbation=store(digest.perturbation),
            perturbation_scale=digest.scales[i],
            before=digest.predictions("before", i, entry.classes, k),
            after=digest.predictions("after", i, entry.classes, k),
            success=digest.success[i],
            norms=digest.norms[i],
            steps=o.steps,
            seconds=round(o.seconds, 4),
            trajectory=[Step(**s) for s in o.trajectories[i]],
            snapshots=[
                Snapshot(step=step, image=self._snapshot(pixels, digest, i, original, adversarial))
                for step, pixels in digest.snapshots[i]
            ],
            survives_saving=SavedCheck(
                success=saved_pred == target if target is not None else saved_pred != label,
                predictions=digest.predictions("saved", i, entry.classes, k),
                changed_values=digest.rounded_away[i],
            ),
        )

    def _snapshot(
        self, pixels: np.ndarray, digest: _Digest, i: int, original: ImageInfo, adversarial: ImageInfo
    ) -> ImageInfo:
        """A trajectory image; the first and last usually look like the original and the result."""
        if np.array_equal(pixels, digest.original[i]):
            return original
        if np.array_equal(pixels, digest.adversarial[i]):
            return adversarial
        return self.images.store_image(imaging.array_to_image(pixels))

    def page_context(
        self, req: AttackRequest, name: str, result: AttackResponse | None, error: BadRequest | None = None
    ) -> dict:
        """Everything templates/attack.html shows: choices, the generated Params form, the result, and
        a bad input's message (beside its field when it names one)."""
        chosen = get_attack(name)
        entry = self.zoo.entry(req.model)
        values = result.params if result else req.params
        grid = sweep_grid(entry)
        return {
            **self.classifier.picker_context(req.model, req.image),
            "attacks": list_attacks(),
            "attack": describe(chosen),
            "target": "" if req.target is None else str(req.target),
            "seed": req.seed,
            "classes": entry.classes,
            "fields": param_fields(chosen, values),
            "result": result,
            "chart": trajectory_chart(result) if result and len(result.trajectory) > 2 else None,
            "permalink": permalink(result) if result else None,
            "error": error.message if error else None,
            "error_field": getattr(error, "field", None),
            "slider": {"max": grid[-1], "step": grid[1] - grid[0]},
        }

    async def fgsm_sweep(self, req: SweepRequest) -> SweepResponse:
        """FGSM at every ε of a grid for one image (see SweepRequest). Shared between identical
        requests (the result cache), so a client that leaves does not stop it."""
        entry, model = self.zoo.model(req.model)
        target = resolve_target(entry, req.target)
        eps = sweep_grid(entry) if req.eps is None else [_check_eps(e) for e in req.eps]
        k = min(req.top_k or self.settings.top_k, len(entry.classes))
        self.images.check(req.image)
        key = (req.model, req.image, target, tuple(eps), k)
        compute = partial(self._compute_sweep, req, entry, model, target, eps, k)
        still_valid = lambda r: self.images.kept(r.original, r.sign)
        result = await self.results.get(("fgsm-sweep", *key), compute, still_valid)
        return result.model_copy(update={"seed": req.seed})

    async def _compute_sweep(
        self, req: SweepRequest, entry: ZooEntry, model: Classifier, target: int | None, eps: list[float], k: int
    ) -> SweepResponse:
        x = await self.images.model_input_async(req.image, entry)
        job = _Job(x, self.images.true_label(req.image, entry.spec.dataset), target, None, 0)
        run = partial(_sweep_batch, model, self.zoo.device, eps)
        key = ("fgsm-sweep", req.model, target is None, tuple(eps))
        limit = self.settings.request_timeout_s
        sweep, label, i, seconds = await self.executor.run_batched(key, job, run, timeout=limit)
        render = partial(self._sweep_response, req, entry, target, k, x, sweep, label, i, seconds)
        return render() if x.numel() <= INLINE_RESULT_VALUES else await run_in_threadpool(render)

    def _sweep_response(
        self,
        req: SweepRequest,
        entry: ZooEntry,
        target: int | None,
        k: int,
        x: torch.Tensor,
        s: Sweep,
        label: int,
        i: int,
        seconds: float,
    ) -> SweepResponse:
        """Image i of a batched sweep as a response: two PNGs and, per ε, the numbers to draw."""
        png = lambda pixels: self.images.store_image(imaging.array_to_image(imaging.to_uint8(pixels)[0]))
        classes = entry.classes
        best = lambda logits: torch.softmax(logits.float(), -1).topk(k)
        after, saved = best(s.logits_after[i]), best(s.logits_saved[i])
        before = best(s.logits_before[i])
        d = {name: v[i].tolist() for name, v in s.distances.items()}
        tops = lambda top, j: top_predictions(top.values[j].tolist(), top.indices[j].tolist(), classes)
        saved_top = saved.indices[:, 0].tolist()
        steps = [
            SweepStep(
                eps=e,
                predictions=tops(after, j),
                success=bool(s.success[i, j]),
                norms=Norms(
                    l0=int(d["l0"][j]),
                    l2=d["l2"][j],
                    linf=d["linf"][j],
                    psnr=None if d["psnr"][j] == float("inf") else d["psnr"][j],
                ),
                survives_saving=SavedCheck(
                    success=saved_top[j] == target if target is not None else saved_top[j] != label,
                    predictions=tops(saved, j),
                    changed_values=int(s.rounded[i, j]),
                ),
            )
            for j, e in enumerate(s.eps)
        ]
        return SweepResponse(
            model=req.model,
            image=req.image,
            seed=req.seed,
            target=target,
            target_label=None if target is None else classes[target],
            label=label,
            label_name=classes[label],
            original=png(x),
            sign=png(s.sign[i : i + 1] * 0.5 + 0.5),
            before=top_predictions(before.values.tolist(), before.indices.tolist(), classes),
            steps=steps,
            seconds=round(seconds, 4),
        )
