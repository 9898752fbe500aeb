"""The gradient view and the linear toy: JSON under /api/v1, pages at /gradients and /linear.

Pages are GET forms (the query string is the permalink); htmx swaps a named block of the same
template. Bad page input raises an AppError, shown in place like everywhere else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from app.errors import BadRequest
from app.explain import linear
from app.explain.plot import loglog
from app.routes.api import BODY, MODEL_WORK, keep_upload, show_upload
from app.schemas import validated
from app.schemas.explain import MAX_K, GradientRequest, GradientResponse, LinearToyRequest, LinearToyResponse
from app.services import explain
from app.web.deps import ClassifierDep, ExplainDep, ImagesDep, IsHtmx, ZooDep
from app.web.templating import render

router = APIRouter()
api = APIRouter(prefix="/api/v1", tags=["explain"])
pages = APIRouter(include_in_schema=False)


@api.post("/gradients", responses=MODEL_WORK)
async def gradients_api(explainer: ExplainDep, body: GradientRequest) -> GradientResponse:
    """dL/dx as a heatmap and a sign map, and backprop checked against finite differences at k pixels."""
    return await explainer.gradient_view(body)


@api.post("/linear-toy", responses=BODY)
async def linear_toy_api(body: LinearToyRequest) -> LinearToyResponse:
    """sigmoid(w.x + b) before and after x + eps*w and x + eps*sign(w); eps*||w||_1 against input size."""
    return explain.linear_toy(body)


# --- pages ---------------------------------------------------------------------------------------


@pages.get("/gradients")
async def gradients_page(
    request: Request,
    explainer: ExplainDep,
    classifier: ClassifierDep,
    images: ImagesDep,
    zoo: ZooDep,
    htmx: IsHtmx,
    model: str = "",
    image: str = "",
    target: str = "",
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 8,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    shown_model: str = "",
) -> Response:
    """Opens with an example computed: the model's suitable gallery picture when none is chosen."""
    models = classifier.list_models()
    model = model or next((m.name for m in models if m.available), "")
    switched = bool(shown_model) and shown_model != model
    image = images.image_for(zoo.entry(model), image, switched)
    target = "" if switched else target
    body = validated(GradientRequest, model=model, image=image, target_class=_class(target), k=k, seed=seed)
    context = {
        **classifier.picker_context(model, image, models),
        "target": target,
        "k": k,
        "seed": seed,
        "max_k": MAX_K,
        "classes": zoo.entry(model).classes if model else [],
        "result": await explainer.gradient_view(body),
    }
    return render(request, "gradients.html", context, block="lab" if htmx else None)


def _class(target: str) -> int | None:
    if not target.strip():
        return None
    if not target.strip().isdigit():
        raise BadRequest(f"The class must be a class number, not {target[:20]!r}.")
    return int(target)


@pages.post("/gradients")
async def gradients_upload(
    request: Request,
    explainer: ExplainDep,
    classifier: ClassifierDep,
    images: ImagesDep,
    zoo: ZooDep,
    htmx: IsHtmx,
    model: Annotated[str, Form()],
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store the upload, then show its gradient at the permalink (a redirect, or the fragment and HX-Push-Url)."""
    info = await keep_upload(request, images, file)
    return await show_upload(
        htmx,
        "/gradients",
        model,
        info.id,
        lambda: gradients_page(request, explainer, classifier, images, zoo, htmx, model, info.id),
    )


@pages.get("/linear")
async def linear_page(
    request: Request,
    htmx: IsHtmx,
    w: str = "",
    x: str = "",
    b: Annotated[float, Query(ge=-1000, le=1000)] = linear.SEED_B,
    eps: Annotated[float, Query(ge=0, le=1)] = linear.SEED_EPS,
) -> Response:
    body = validated(
        LinearToyRequest,
        b=b,
        eps=eps,
        w=explain.parse_vector(w, "w") if w.strip() else list(linear.SEED_W),
        x=explain.parse_vector(x, "x") if x.strip() else list(linear.SEED_X),
    )
    result = explain.linear_toy(body)
    context = {"result": result, "plot": _dimension_plot(result), "lecture": _lecture_numbers()}
    return render(request, "linear.html", context, block="result" if htmx else None)


def _dimension_plot(result: LinearToyResponse):
    ns = [p.n for p in result.series]
    lines = {"aligned": [p.aligned for p in result.series], "random": [p.random_rms for p in result.series]}
    markers = [(m.name, m.n, m.aligned) for m in result.markers]
    markers.insert(0, (f"your w (n = {len(result.w)})", len(result.w), result.along_sign.change))
    return loglog(ns, lines, markers)


def _lecture_numbers() -> LinearToyResponse:
    """The seed's example computed afresh, for the note comparing it with the lecture's figures."""
    return explain.linear_toy(LinearToyRequest())


router.include_router(api)
router.include_router(pages)
