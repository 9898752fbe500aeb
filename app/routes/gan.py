"""The GAN studio: JSON under /api/v1/generators, and the /gan page (htmx swaps its studio block)."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.config import Settings
from app.errors import NotFound
from app.gan.lab import LabConfig, LabManager
from app.routes.api import BODY, MODEL_WORK, READ, errors
from app.schemas import validated
from app.schemas.gan import (
    MAX_GROUP,
    ArithmeticRequest,
    ArithmeticResponse,
    ClassPathRequest,
    ClassPathResponse,
    ConceptRequest,
    ConceptResponse,
    ConceptsResponse,
    DigitsRequest,
    DigitsResponse,
    ExemplarRequest,
    ExemplarResponse,
    GeneratorInfo,
    ImagesResponse,
    InterpolateRequest,
    InterpolateResponse,
    LabComparison,
    LabControl,
    LabState,
    SamplesRequest,
    SamplesResponse,
)
from app.services import gan_lab as lab_service
from app.web import figures
from app.web import gan_page as page
from app.web.deps import GanDep, GanLabDep, GanSessionsDep, IsHtmx, SettingsDep
from app.web.templating import render

router = APIRouter()
api = APIRouter(prefix="/api/v1/generators", tags=["gan"])
pages = APIRouter(include_in_schema=False)


@api.get("")
async def list_generators(gan: GanDep) -> list[GeneratorInfo]:
    """Every GAN: image shape, latent size, what labels its samples, and its measured quality."""
    return gan.list_generators()


@api.post("/{name}/samples", responses=MODEL_WORK)
async def samples(gan: GanDep, name: str, body: SamplesRequest) -> SamplesResponse:
    """Decode a grid of latents (seed, start..start+count-1), or the latents given; at most 64."""
    return await gan.samples(name, body)


@api.post("/{name}/images", responses=MODEL_WORK)
async def images(gan: GanDep, name: str, body: SamplesRequest) -> ImagesResponse:
    """The same grid's pictures alone (no discriminator score, no labels): the quickest way to show
    it. A following POST .../samples with the same body judges these images instead of drawing them again."""
    return await gan.sample_images(name, body)


@api.post("/{name}/arithmetic", responses=MODEL_WORK)
async def arithmetic(gan: GanDep, name: str, body: ArithmeticRequest) -> ArithmeticResponse:
    """mean(A) - mean(B) + mean(C), decoded, with a 3x3 neighbourhood of small noise around it."""
    return await gan.arithmetic(name, body)


@api.post("/{name}/interpolate", responses=MODEL_WORK)
async def interpolate(gan: GanDep, name: str, body: InterpolateRequest) -> InterpolateResponse:
    """A strip from start to end: straight line (lerp) and great circle (slerp)."""
    return await gan.interpolate(name, body)


@api.post("/{name}/digits", responses=MODEL_WORK)
async def digits(gan: GanDep, name: str, body: DigitsRequest) -> DigitsResponse:
    """A class-conditional generator: each latent drawn as each digit asked for (one row per latent),
    with the share the judge takes for the digit asked for. 400 for an unconditional generator."""
    return await gan.digits(name, body)


@api.post("/{name}/class-path", responses=MODEL_WORK)
async def class_path(gan: GanDep, name: str, body: ClassPathRequest) -> ClassPathResponse:
    """A class-conditional generator: one latent from one digit to another, through the label
    embeddings. 400 for an unconditional generator."""
    return await gan.class_path(name, body)


@api.get("/{name}/concepts", responses=errors(400, 404, 503))
async def concepts(gan: GanDep, name: str) -> ConceptsResponse:
    """The concept directions (digits, or face attributes) and how many pool samples define each."""
    return await gan.concepts(name)


@api.post("/{name}/concept", responses=MODEL_WORK)
async def concept(gan: GanDep, name: str, body: ConceptRequest) -> ConceptResponse:
    """A latent moved along a concept direction at each strength."""
    return await gan.concept_edit(name, body)


@api.post("/{name}/exemplars", responses=MODEL_WORK)
async def exemplars(gan: GanDep, name: str, body: ExemplarRequest) -> ExemplarResponse:
    """Pool samples that best show every concept in ``want`` and none in ``avoid``."""
    return await gan.exemplars(name, body)


# --- the page -------------------------------------------------------------------------------------

Refs = Annotated[list[str], Query(max_length=MAX_GROUP)]


def studio_state(
    gan: GanDep,
    model: str = "",
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    a: Refs = [],
    b: Refs = [],
    c: Refs = [],
    start: str = "",
    end: str = "",
    steps: int = 10,
    focus: str = "",
    concept: str = "",
    strength: float = 1.5,
    noise: float = 0.5,
    from_digit: int = 1,
    to_digit: int = 7,
) -> page.StudioState:
    """The studio's state from the query string (the page's URL is its whole state)."""
    model = model or next((g.name for g in gan.list_generators() if g.available), "")
    return page.StudioState(
        model,
        seed,
        tuple(a),
        tuple(b),
        tuple(c),
        start,
        end,
        steps,
        focus,
        concept,
        strength,
        noise,
        from_digit,
        to_digit,
    )


StateDep = Annotated[page.StudioState, Depends(studio_state)]


@pages.get("/gan")
async def studio(request: Request, gan: GanDep, htmx: IsHtmx, state: StateDep, labels: bool = False) -> Response:
    """The studio; its grid's labels follow from /gan/grid, or come with the page given ``labels``
    (the link a browser without JavaScript shows)."""
    context = await page.context(gan, state, judged=labels)
    return render(request, "gan.html", context, block="studio" if htmx else None)


@pages.get("/gan/grid")
async def judged_grid(request: Request, gan: GanDep, state: StateDep) -> Response:
    """The studio's grid with each sample's label and D's verdict: the page loads it after the pictures."""
    return render(request, "gan.html", await page.judged_grid(gan, state), block="grid")


@pages.get("/gan/fill")
async def fill(
    gan: GanDep,
    htmx: IsHtmx,
    state: StateDep,
    group: str = "",
    want: Annotated[list[str], Query()] = [],
    avoid: Annotated[list[str], Query()] = [],
    count: Annotated[int, Query(ge=1, le=MAX_GROUP)] = 3,
    seed_example: bool = False,
) -> Response:
    """Fill a group with exemplars (or A, B and C with the seed's glasses example), keeping the rest
    of the studio's state, then show the page."""
    if seed_example:
        state = await page.fill_lecture_example(gan, state, count)
    else:
        state = await page.fill(gan, state, group, want, avoid, count)
    if htmx:  # load the filled studio in place, with its own URL in the address bar
        return Response(
            status_code=204, headers={"HX-Location": json.dumps({"path": state.url(), "target": "#studio"})}
        )
    return RedirectResponse(state.url(), status_code=303)


# --- the live training lab -------------------------------------------------------------------------

lab_api = APIRouter(prefix="/api/v1/gan-lab", tags=["gan lab"])


@lab_api.post("/sessions", status_code=201, responses=BODY | errors(503))
async def start_session(lab: GanLabDep, body: LabConfig) -> LabState:
    """Start a training session (paused). 503 with Retry-After when every slot is taken. A session
    ends when nobody asks for its state for ADVLAB_GAN_LAB_IDLE_S seconds."""
    return await lab.start(body)


@lab_api.post("/compare", responses=BODY | errors(503))
async def compare_costs(
    lab: GanLabDep, body: LabConfig, steps: Annotated[int, Query(ge=1, le=lab_service.COMPARE_MAX_STEPS)] = 300
) -> LabComparison:
    """Train both generator costs for ``steps`` steps at the same settings and seed (body's ``cost``
    is ignored) and return both histories, pictures, and the figures that tell them apart. Each run
    takes a training slot while it trains: 503 with Retry-After when none is free."""
    return await lab.compare(body, steps)


@lab_api.get("/sessions/{session_id}", responses=READ)
async def session_state(lab: GanLabDep, session_id: str) -> LabState:
    """Losses, D(x), D(G(z)) and the generator's gradient norm per step, and the current samples."""
    return await lab.state(session_id)


@lab_api.post("/sessions/{session_id}/control", responses=BODY | errors(404))
async def control_session(lab: GanLabDep, session_id: str, body: LabControl) -> LabState:
    """play, pause, step (n generator steps now) or reset (same settings, fresh players)."""
    return await lab.control(session_id, body)


@lab_api.delete("/sessions/{session_id}", status_code=204, responses=errors(400, 403, 404))
async def stop_session(lab: GanLabDep, session_id: str) -> Response:
    lab.stop(session_id)
    return Response(status_code=204)


# The start form's fields, which the query string may fill in (batch_size is not on the form).
LAB_FORM_FIELDS = ("data", "cost", "k", "lr_g", "lr_d", "optimizer", "seed")


@pages.get("/gan/lab")
async def lab_page(request: Request, settings: SettingsDep, sessions: GanSessionsDep) -> Response:
    """The start form, filled in from the query string (e.g. ?data=ring&cost=saturating): starting a
    session is a POST, so this is how a link (a lecture preset) sets one up. With ``start=1`` the
    page submits the form as it opens (with JavaScript; without it, "Start training" does)."""
    given = {k: request.query_params[k] for k in LAB_FORM_FIELDS if k in request.query_params}
    context = lab_context(settings, sessions, None, validated(LabConfig, **given))
    return render(request, "gan_lab.html", {**context, "autostart": request.query_params.get("start") == "1"})


@pages.post("/gan/lab")
async def lab_start(
    request: Request,
    lab: GanLabDep,
    sessions: GanSessionsDep,
    data: Annotated[str, Form()] = "ring",
    cost: Annotated[str, Form()] = "non-saturating",
    k: Annotated[int, Form()] = 1,
    lr_g: Annotated[float, Form()] = 1e-3,
    lr_d: Annotated[float, Form()] = 1e-3,
    optimizer: Annotated[str, Form()] = "adam",
    seed: Annotated[int, Form()] = 0,
) -> Response:
    config = validated(LabConfig, data=data, cost=cost, k=k, lr_g=lr_g, lr_d=lr_d, optimizer=optimizer, seed=seed)
    state = await lab.start(config)
    sessions.play(sessions.get(state.id), True)
    return RedirectResponse(f"/gan/lab/{state.id}", status_code=303)


@pages.get("/gan/lab/compare")
async def lab_compare(
    request: Request, lab: GanLabDep, steps: Annotated[int, Query(ge=1, le=lab_service.COMPARE_MAX_STEPS)] = 300
) -> Response:
    """Both generator costs trained for ``steps`` steps at the settings in the query string (its
    ``cost`` is ignored), side by side: a permalink, since the same settings and seed give the same runs."""
    given = {k: request.query_params[k] for k in LAB_FORM_FIELDS if k in request.query_params and k != "cost"}
    config = validated(LabConfig, **given)
    comparison = await lab.compare(config, steps)
    links = {r.cost: "/gan/lab?" + urlencode({**comparison.config, "cost": r.cost}) for r in comparison.runs}
    return render(
        request,
        "gan_lab_compare.html",
        {
            "comparison": comparison,
            "config": config,
            "charts": figures.compare_charts(comparison),
            "links": links,
        },
    )


@pages.get("/gan/lab/{session_id}")
async def lab_session_page(
    request: Request, lab: GanLabDep, settings: SettingsDep, sessions: GanSessionsDep, htmx: IsHtmx, session_id: str
) -> Response:
    """The session's page; htmx polls its ``live`` block. When the session is gone, polling stops (286)."""
    try:
        state = await lab.state(session_id)
    except NotFound as exc:
        if htmx:
            return render(request, "gan_lab.html", {"ended": exc.message}, block="live", status_code=286)
        raise
    context = lab_context(settings, sessions, state, LabConfig(**state.config))
    return render(request, "gan_lab.html", context, block="live" if htmx else None)


@pages.post("/gan/lab/{session_id}")
async def lab_session_control(
    request: Request,
    lab: GanLabDep,
    settings: SettingsDep,
    sessions: GanSessionsDep,
    htmx: IsHtmx,
    session_id: str,
    action: Annotated[str, Form()],
    steps: Annotated[int, Form()] = 1,
) -> Response:
    if action == "stop":
        lab.stop(session_id)
        return RedirectResponse("/gan/lab", status_code=303)
    await lab.control(session_id, validated(LabControl, action=action, steps=steps))
    return (
        await lab_session_page(request, lab, settings, sessions, htmx, session_id)
        if htmx
        else RedirectResponse(f"/gan/lab/{session_id}", status_code=303)
    )


def lab_context(settings: Settings, sessions: LabManager, state: LabState | None, config: LabConfig) -> dict:
    return {
        "state": state,
        "config": config,
        "charts": figures.gan_lab_charts(state) if state else None,
        "cost_chart": figures.cost_charts(),
        "slots": settings.gan_lab_sessions,
        "in_use": len(sessions.sessions),
        "ended": None,
    }


router.include_router(api)
router.include_router(lab_api)
router.include_router(pages)
