"""What the lab routes call: start, control and describe GAN-training sessions, compare the two
generator costs at the same settings, and the seed's figure of the two costs. Pictures are drawn
on the executor and stored as PNGs."""

from __future__ import annotations

import numpy as np
import torch
from starlette.concurrency import run_in_threadpool

from app.errors import BadRequest
from app.gan import lab as gan_lab
from app.gan.game import cost_curve
from app.gan.lab import LabManager
from app.runtime.executor import Executor
from app.schemas.gan import LabComparison, LabControl, LabPoint, LabRun, LabState
from app.services import ResultCache
from app.services.images import ImageService

# Colour-blind-safe diverging map for D(x): blue (fake) through white to orange (real).
_FAKE, _MID, _REAL = np.array([33, 102, 172]), np.array([247, 247, 247]), np.array([230, 97, 1])


COMPARE_MAX_STEPS = 500  # both runs are trained while the request waits


def nearest_distance(points: list[tuple[float, float]], data: list[tuple[float, float]]) -> float:
    """Mean distance from each point to the nearest data point: 0 when every sample sits on the data."""
    return float(torch.cdist(torch.tensor(points), torch.tensor(data)).min(1).values.mean())


class GanLabService:
    """GAN-training sessions of the live lab (``manager``), their state with pictures, and the two
    costs compared."""

    def __init__(self, manager: LabManager, images: ImageService, executor: Executor, results: ResultCache) -> None:
        self.manager, self.images, self.executor, self.results = manager, images, executor, results

    async def start(self, config: gan_lab.LabConfig) -> LabState:
        session = await self.manager.start(config)
        return await self.state(session.id)

    async def control(self, session_id: str, body: LabControl) -> LabState:
        session = self.manager.get(session_id)
        if body.action in ("play", "pause"):
            self.manager.play(session, body.action == "play")
        elif body.action == "step":
            await self.manager.step(session, body.steps)
        elif body.action == "reset":
            await self.manager.reset(session)
        else:
            raise BadRequest(f"Unknown action {body.action[:20]!r}: use play, pause, step or reset.")
        return await self.state(session_id)

    async def compare(self, config: gan_lab.LabConfig, steps: int) -> LabComparison:
        """Train the saturating and the non-saturating cost side by side: same settings, same seed, so
        the same players at step 0 and the same batches. Each run holds a training slot of the lab (the
        cap applies) only while it trains. Deterministic, so a room opening the preset shares one
        computation and then the kept result (lab.results), as long as its pictures are in the store."""
        steps = max(1, min(steps, COMPARE_MAX_STEPS, self.manager.max_steps))

        async def both() -> LabComparison:
            costs = ("saturating", "non-saturating")
            runs = [await self._run(config.model_copy(update={"cost": cost}), steps) for cost in costs]
            return LabComparison(config=config.model_dump(exclude={"cost"}), steps=steps, runs=runs)

        pictures = lambda c: [p for r in c.runs for p in (r.state.samples, r.state.decision_map) if p is not None]
        key = ("gan-lab-compare", config.model_dump_json(exclude={"cost"}), steps)
        return await self.results.get(key, both, lambda c: self.images.kept(*pictures(c)))

    async def _run(self, config: gan_lab.LabConfig, steps: int) -> LabRun:
        session = await self.manager.start(config)
        try:
            before = await self.state(session.id)
            await self.manager.step(session, steps)
            after = await self.state(session.id)
        finally:
            self.manager.stop(session.id)
        late = [p for p in after.history if p.step > steps // 2] or after.history
        run = LabRun(
            cost=config.cost,
            state=after,
            start_points=before.fake_points,
            grad_median=float(np.median([p.g_grad_norm for p in late])),
            d_fake=float(np.mean([p.d_fake for p in late])),
        )
        if after.real_points:
            run.distance_start = nearest_distance(before.fake_points, after.real_points)
            run.distance_end = nearest_distance(after.fake_points, after.real_points)
        return run

    def stop(self, session_id: str) -> None:
        self.manager.get(session_id)
        self.manager.stop(session_id)

    async def state(self, session_id: str) -> LabState:
        session = self.manager.get(session_id)
        drawn = await self.executor.run(gan_lab.picture, session)
        history = [LabPoint(**h) for h in list(session.history)]
        base = LabState(
            id=session.id,
            config=session.config.model_dump(),
            steps=session.steps,
            max_steps=self.manager.max_steps,
            playing=session.playing,
            history=history,
        )
        if session.config.data == "mnist":
            base.samples = await run_in_threadpool(self.images.store_tensor, _tile(drawn["fake"]))
            return base
        base.real_points = _points(drawn["real"])
        base.fake_points = _points(drawn["fake"])
        base.decision_map = await run_in_threadpool(self.images.store_tensor, _colour(drawn["d_map"]))
        base.extent = gan_lab.EXTENT
        return base


def _points(x: torch.Tensor) -> list[tuple[float, float]]:
    return [(round(a, 3), round(b, 3)) for a, b in x.tolist()]


def _tile(images: torch.Tensor, columns: int = 4) -> torch.Tensor:
    """(16, 1, 28, 28) -> one (1, 112, 112) picture."""
    n, c, h, w = images.shape
    rows = n // columns
    return images.view(rows, columns, c, h, w).permute(2, 0, 3, 1, 4).reshape(c, rows * h, columns * w)


def _colour(d_map: torch.Tensor) -> torch.Tensor:
    """(S, S) probabilities -> (3, S, S) RGB in [0,1] on the diverging map."""
    p = d_map.numpy()[..., None]
    low = _FAKE + (p / 0.5) * (_MID - _FAKE)
    high = _MID + ((p - 0.5) / 0.5) * (_REAL - _MID)
    rgb = np.where(p < 0.5, low, high) / 255.0
    return torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1)


def cost_figure(points: int = 99) -> dict[str, list[tuple[float, float]]]:
    """The seed's figure, computed: J(G) and |dJ/d logit| against D(G(z)) for both costs."""
    d = torch.linspace(0.01, 0.99, points)
    out = {}
    for cost, key in (("saturating", "sat"), ("non-saturating", "nonsat")):
        value, grad = cost_curve(d, cost)
        out[f"{key}_cost"] = [(float(a), float(b)) for a, b in zip(d, value)]
        out[f"{key}_grad"] = [(float(a), float(b)) for a, b in zip(d, grad)]
    return out
