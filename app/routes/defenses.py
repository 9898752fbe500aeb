"""Defenses and experiments: JSON under /api/v1/defenses, /api/v1/experiments and /api/v1/jobs;
pages at /defenses, /experiments and /jobs/{id} (htmx polls a job's progress block)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.errors import NotFound
from app.labs import EXPERIMENTS
from app.routes.api import MODEL_WORK, READ, errors
from app.runtime import jobs
from app.schemas import SampleInfo, validated
from app.services import experiments as labs
from app.services.defenses import TransformRequest, TransformResponse, VerdictRequest, VerdictResponse
from app.services.experiments import ExperimentInfo, JobInfo
from app.services.images import ImageService
from app.web import figures
from app.web.deps import DefensesDep, ExperimentsDep, ImagesDep, IsHtmx, JobsDep
from app.web.http import RoundedJSONResponse
from app.web.templating import render

router = APIRouter()
api = APIRouter(prefix="/api/v1")
pages = APIRouter(include_in_schema=False)
CANCEL_COOKIE = "advlab_cancel"  # a job's cancel token, for its page only (Path=/jobs/{id})


@api.post("/defenses/verdicts", tags=["defenses"], responses=MODEL_WORK)
async def verdicts(defenses: DefensesDep, body: VerdictRequest) -> VerdictResponse:
    """One digit (optionally made adversarial first) judged by mnist-cnn, mnist-cnn-robust, the
    detector, and mnist-cnn after each input transform."""
    return await defenses.verdicts(body)


@api.post("/defenses/transform", tags=["defenses"], responses=MODEL_WORK)
async def transform(defenses: DefensesDep, body: TransformRequest) -> TransformResponse:
    """Any model's answer before and after an input transform (JPEG, bit depth, median filter)."""
    return await defenses.transform(body)


@api.get("/experiments", tags=["experiments"])
async def list_experiments() -> list[ExperimentInfo]:
    """The experiments, each with its parameters' JSON schema (defaults and limits)."""
    return labs.list_experiments()


@api.post("/experiments/{kind}", tags=["experiments"], status_code=202, responses=errors(400, 403, 404, 413, 422, 503))
async def start_experiment(experiments: ExperimentsDep, kind: str, body: dict | None = None) -> RoundedJSONResponse:
    """Start (or join) a run; the same parameters give the same job id. 200 with the result when it
    has already run. Poll GET /api/v1/jobs/{id} at least every ADVLAB_JOB_IDLE_S seconds, or it is cancelled."""
    job, token = experiments.start(kind, body or {})
    info = experiments.describe(job, cancel_token=token)
    return RoundedJSONResponse(info.model_dump(mode="json"), status_code=200 if job.status == "done" else 202)


@api.get("/jobs/{job_id}", tags=["experiments"], responses=READ)
async def job_state(experiments: ExperimentsDep, queue: JobsDep, job_id: str) -> JobInfo:
    """Status, progress, queue position and estimated wait, and the result once done."""
    return experiments.describe(queue.get(job_id))


@api.delete("/jobs/{job_id}", tags=["experiments"], responses=errors(400, 403, 404))
async def cancel_job(
    experiments: ExperimentsDep,
    queue: JobsDep,
    job_id: str,
    x_cancel_token: Annotated[str | None, Header(description="The cancel_token its start returned.")] = None,
) -> JobInfo:
    """Withdraw from a waiting or running job with the cancel token its start returned (403 without
    it). When no other client holds a token the job stops, within one attack step."""
    return experiments.describe(queue.cancel(job_id, x_cancel_token))


# --- pages ----------------------------------------------------------------------------------------


@pages.get("/defenses")
async def defenses_page(
    request: Request,
    defenses: DefensesDep,
    images: ImagesDep,
    htmx: IsHtmx,
    image: str = "sample:mnist-00003",
    craft: str = "pgd",
    eps: Annotated[float, Query(ge=0, le=0.5)] = 0.2,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    quality: int = 75,
    bits: int = 3,
    size: int = 3,
) -> Response:
    body = validated(
        VerdictRequest, image=image, craft=craft, eps=eps, seed=seed, quality=quality, bits=bits, size=size
    )
    context = {"req": body, "result": await defenses.verdicts(body), "samples": _digits(images)}
    return render(request, "defenses.html", context, block="verdicts" if htmx else None)


def _digits(images: ImageService) -> list[SampleInfo]:
    return [s for s in images.list_samples() if s.kind == "digit"]


@pages.get("/defenses/transforms")
async def transforms_page(
    request: Request,
    defenses: DefensesDep,
    htmx: IsHtmx,
    model: str,
    image: str,
    label: Annotated[int, Query(ge=0)],
    target: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """An attack result after each input transform (the attack lab's "Check input transforms")."""
    rows = await defenses.transform_rows(model, image, label, target)
    context = {"model": model, "image": image, "rows": rows}
    return render(request, "transforms.html", context, block="transforms" if htmx else None)


@pages.get("/experiments")
async def experiments_page(request: Request, queue: JobsDep) -> Response:
    shipped = {kind: queue.jobs.get(_default_id(kind)) for kind in EXPERIMENTS}
    return render(
        request, "experiments.html", {"experiments": labs.list_experiments(), "shipped": shipped, "kind": None}
    )


@pages.get("/experiments/{kind}")
async def experiment_page(request: Request, queue: JobsDep, kind: str) -> Response:
    e = labs.experiment(kind)
    values = labs.from_form(e, dict(request.query_params))
    params = labs.parse(e, values)
    job = queue.jobs.get(jobs.job_id(kind, params.model_dump()))
    if job is None or job.status != "done":
        job = None
    context = {
        "experiments": labs.list_experiments(),
        "kind": kind,
        "experiment": e,
        "fields": labs.form_fields(e, params.model_dump()),
        "job": job,
        "charts": _charts(job),
        "shipped": {},
    }
    return render(request, "experiments.html", context)


@pages.post("/experiments/{kind}")
async def experiment_start(request: Request, experiments: ExperimentsDep, kind: str) -> Response:
    e = labs.experiment(kind)
    form = {k: str(v) for k, v in (await request.form()).items()}
    job, token = experiments.start(kind, labs.from_form(e, form))
    response = RedirectResponse(f"/jobs/{job.id}", status_code=303)
    if token:  # this browser may cancel the run from its page (and only this one)
        response.set_cookie(CANCEL_COOKIE, token, path=f"/jobs/{job.id}", httponly=True, samesite="strict")
    return response


@pages.get("/jobs/{job_id}")
async def job_page(
    request: Request, experiments: ExperimentsDep, queue: JobsDep, htmx: IsHtmx, job_id: str
) -> Response:
    """The job's progress (polled by htmx; 286 stops the polling once it has finished) and result."""
    try:
        job = queue.get(job_id)
    except NotFound as exc:
        if htmx:
            return render(request, "job.html", {"gone": exc.message}, block="progress", status_code=286)
        raise
    context = {
        "job": experiments.describe(job),
        "experiment": EXPERIMENTS[job.kind],
        "charts": _charts(job),
        "gone": None,
        "can_cancel": request.cookies.get(CANCEL_COOKIE) in job.holders,
    }
    status = 286 if htmx and not job.active else 200
    return render(request, "job.html", context, block="progress" if htmx else None, status_code=status)


@pages.post("/jobs/{job_id}/cancel")
async def job_cancel(request: Request, queue: JobsDep, job_id: str) -> Response:
    job = queue.cancel(job_id, request.cookies.get(CANCEL_COOKIE))
    response = RedirectResponse(f"/experiments/{job.kind}", status_code=303)
    response.delete_cookie(CANCEL_COOKIE, path=f"/jobs/{job.id}")
    return response


def _charts(job) -> dict:
    if job is None or job.result is None:
        return {}
    if job.kind == "robustness":
        return {"curves": figures.robustness_chart(job.result)}
    if job.kind == "shortcut":
        return {"sweep": figures.shortcut_chart(job.result)}
    return {}


def _default_id(kind: str) -> str:
    return jobs.job_id(kind, EXPERIMENTS[kind].Params().model_dump())


router.include_router(api)
router.include_router(pages)
