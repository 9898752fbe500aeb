"""What the explain routes call: the gradient view and the linear toy. Torch stays in gradients.py."""

from __future__ import annotations

import numpy as np
from starlette.concurrency import run_in_threadpool

from app.errors import BadRequest
from app.explain import gradients, linear
from app.media import imaging
from app.runtime.executor import Executor
from app.schemas.explain import (
    DimensionMarker,
    DimensionPoint,
    GradientCheckRow,
    GradientMap,
    GradientRequest,
    GradientResponse,
    LinearOutput,
    LinearStep,
    LinearToyRequest,
    LinearToyResponse,
)
from app.services.images import ImageService
from app.zoo import Zoo

HEATMAP_SCALE = (
    "linear in |dL/dx| (largest over channels): black = 0, pale yellow = {full:.3g} "
    f"(the {gradients.HEAT_QUANTILE:.0%} quantile; larger values are clipped, the largest is {{top:.3g}})"
)
SIGN_SCALE = "0.5 + 0.5 sign(dL/dx) per channel: white = positive, gray = zero, black = negative"


# --- gradient view -----------------------------------------------------------------------------


def _check_fields(check: gradients.Check) -> dict:
    rows = [
        GradientCheckRow(
            pixel=tuple(p), backprop=b, finite_difference=fd, relative_error=e, left_slope=lft, right_slope=rgt, kink=k
        )
        for p, b, fd, e, lft, rgt, k in zip(
            check.pixels.tolist(),
            check.backprop.tolist(),
            check.central.tolist(),
            check.relative_error.tolist(),
            check.left.tolist(),
            check.right.tolist(),
            check.kink.tolist(),
        )
    ]
    smooth = [r.relative_error for r in rows if not r.kink]
    return {
        "checks": rows,
        "h": check.h,
        "kinks": len(rows) - len(smooth),
        "max_relative_error": max(smooth) if smooth else None,
    }


class ExplainService:
    """The gradient view: dL/dx of one picture for one model, checked against finite differences."""

    def __init__(self, zoo: Zoo, images: ImageService, executor: Executor) -> None:
        self.zoo, self.images, self.executor = zoo, images, executor

    async def gradient_view(self, req: GradientRequest) -> GradientResponse:
        entry, model = self.zoo.model(req.model)
        if req.target_class is not None and req.target_class >= len(entry.classes):
            raise BadRequest(f"target_class must be a class of {req.model}: 0 to {len(entry.classes) - 1}.")
        im = await run_in_threadpool(self.images.load_image, req.image)
        seen = await run_in_threadpool(imaging.prepare, im, entry.spec.preprocess, entry.spec.input_shape)
        truth = self.images.true_label(req.image, entry.spec.dataset)
        report = await self.executor.run(
            gradients.explain,
            model,
            imaging.image_to_tensor(seen),
            req.target_class,
            truth,
            req.k,
            req.seed,
            self.zoo.device,
        )
        maps = await run_in_threadpool(self._store_maps, seen, report.grad)
        source = "requested" if req.target_class is not None else "true label" if truth is not None else "top class"
        predicted = int(report.probs.argmax())
        return GradientResponse(
            model=req.model,
            image=req.image,
            target_class=report.cls,
            target_label=entry.classes[report.cls],
            class_source=source,
            true_label=truth,
            predicted_class=predicted,
            predicted_label=entry.classes[predicted],
            target_prob=report.probs[report.cls].item(),
            loss=report.loss,
            float32_relative_difference=report.float32_error,
            k=req.k,
            seed=req.seed,
            **maps,
            **_check_fields(report.check),
        )

    def _store_maps(self, seen, grad) -> dict:
        heat, full = gradients.heatmap(grad)
        top = grad.abs().max().item()
        return {
            "model_input": self.images.store_image(seen),
            "heatmap": GradientMap(
                image=self.images.store_image(heat),
                scale=HEATMAP_SCALE.format(full=full, top=top),
                max_abs=top,
                full_scale=full,
            ),
            "sign_map": GradientMap(
                image=self.images.store_image(imaging.tensor_to_image(gradients.sign_map(grad))),
                scale=SIGN_SCALE,
                max_abs=top,
            ),
        }


# --- linear toy --------------------------------------------------------------------------------


def linear_toy(req: LinearToyRequest) -> LinearToyResponse:
    w, x = np.array(req.w, dtype=np.float64), np.array(req.x, dtype=np.float64)
    z = linear.logit(w, x, req.b)
    ns = linear.dimension_grid()
    aligned, rms = linear.dimension_series(w, req.eps, ns)
    at = {int(n): i for i, n in enumerate(ns)}
    return LinearToyResponse(
        w=req.w,
        x=req.x,
        b=req.b,
        eps=req.eps,
        before=LinearOutput(z=z, y_hat=linear.sigmoid(z)),
        along_w=_step(linear.along_w(w, x, req.b, req.eps)),
        along_sign=_step(linear.along_sign(w, x, req.b, req.eps)),
        w_l1=float(np.abs(w).sum()),
        w_l2=float(np.linalg.norm(w)),
        series=[DimensionPoint(n=n, aligned=a, random_rms=r) for n, a, r in zip(ns.tolist(), aligned, rms)],
        markers=[
            DimensionMarker(name=name, n=n, aligned=aligned[at[n]], random_rms=rms[at[n]])
            for name, n in linear.DIMENSIONS
        ],
    )


def _step(s: linear.Step) -> LinearStep:
    return LinearStep(x=s.x.tolist(), z=s.z, y_hat=s.y, change=s.change, max_input_change=s.max_input_change)


def parse_vector(text: str, name: str) -> list[float]:
    """Comma- or space-separated numbers typed into a form field; empty items are skipped."""
    items = [item for item in text.replace(",", " ").split() if item]
    try:
        return [float(item) for item in items]
    except ValueError:
        bad = next(item for item in items if not _is_number(item))
        raise BadRequest(
            f"{name}: {bad[:20]!r} is not a number. Type numbers separated by commas, like 1, -0.5, 2."
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
