"""The attack lab: JSON under /api/v1/attacks, and the /attack page (htmx swaps its result block)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app import services
from app.errors import BadRequest
from app.routes.api import MODEL_WORK, json_body, keep_upload
from app.schemas.attacks import AttackInfo, AttackRequest, AttackResponse, SweepRequest, SweepResponse
from app.services import attacks as attack_service
from app.web.deps import LabDep
from app.web.http import status_of
from app.web.templating import is_htmx, render

api = APIRouter(prefix="/api/v1/attacks", tags=["attacks"])


@api.get("")
async def list_attacks() -> list[AttackInfo]:
    """Every attack with its norm, whether it can be targeted, and its Params JSON schema."""
    return attack_service.list_attacks()


@api.post("/fgsm/sweep", responses=MODEL_WORK, response_model=SweepResponse)
async def fgsm_sweep(lab: LabDep, body: SweepRequest) -> Response:
    """FGSM at a whole grid of ε from one gradient: FGSM's direction does not depend on ε, so the
    original and the sign of the step (two PNGs) and the predictions at every ε (one batched
    forward) let a page draw any slider position itself, x_adv(ε) = clip(x + ε·sign, 0, 1), with
    no request per move. At most 101 values of ε; identical requests share one computation."""
    return json_body(await attack_service.fgsm_sweep(lab, body))


@api.post("/{name}", responses=MODEL_WORK, response_model=AttackResponse)
async def run_attack(request: Request, lab: LabDep, name: str, body: AttackRequest) -> Response:
    """Attack one image. Same request and seed, same result. Steps are bounded by each attack's
    Params; the work stops with a 504 after ADVLAB_REQUEST_TIMEOUT_S seconds, and at its next step
    when the client disconnects."""
    return json_body(await attack_service.attack(lab, name, body, disconnected=request.is_disconnected))


pages = APIRouter(include_in_schema=False)

@pages.get("/attack")
async def attack_page(request: Request, lab: LabDep, model: str = "mnist-cnn", image: str = "",
                      attack: str = "fgsm", target: str = "", seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
                      run: bool = False, shown_model: str = "") -> Response:
    """The attack lab. ``run`` runs the attack (FGSM, one gradient, always runs); without it the
    form (for a new model or attack) is shown. ``shown_model`` is the model the form was drawn for:
    after a switch, the new model's picture and parameters apply. htmx requests aimed at #result
    get only the result block, others the ``lab`` block. A bad input keeps the form (422)."""
    chosen = attack_service.get_attack(attack)
    entry = lab.zoo.entry(model)
    switched = bool(shown_model) and shown_model != model
    raw = {**attack_service.model_defaults(chosen, entry), **({} if switched else _params_from_query(request, chosen))}
    image = services.image_for(lab, entry, image, switched)
    body = AttackRequest(model=model, image=image, target=None if switched else target or None, params=raw, seed=seed)
    if image and not image.startswith(services.SAMPLE_PREFIX):
        lab.store.check(image)  # a permalink to an evicted upload: a 404 that says to upload it again
    result, error = None, None
    if run or chosen.name == "fgsm":
        try:
            result = await attack_service.attack(lab, attack, body, disconnected=request.is_disconnected)
        except BadRequest as exc:
            error = exc
    context = attack_service.page_context(lab, body, attack, result, error)
    block = None if not is_htmx(request) else ("result" if request.headers.get("HX-Target") == "result" else "lab")
    return render(request, "attack.html", context, block=block, status_code=status_of(error) if error else 200)


@pages.post("/attack")
async def attack_upload(
    request: Request,
    lab: LabDep,
    file: Annotated[UploadFile | None, File()] = None,
    model: Annotated[str, Form()] = "mnist-cnn",
    attack: Annotated[str, Form()] = "fgsm",
) -> Response:
    """Store an upload and show the attack form with it (a redirect, or HX-Location for htmx). The
    upload button belongs to the lab's form, so the model and attack chosen there come along."""
    info = await keep_upload(request, lab, file)
    url = "/attack?" + urlencode({"model": model, "attack": attack, "image": info.id})
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Location": url})
    return RedirectResponse(url, status_code=303)


def _params_from_query(request: Request, chosen) -> dict[str, str]:
    """The chosen attack's Params from the query string (the last value wins: checkbox + hidden).

    The form says which attack its fields were for; after a switch the new attack's defaults apply."""
    if request.query_params.get("params_for", chosen.name) != chosen.name:
        return {}
    fields = chosen.Params.model_fields
    return {k: request.query_params.getlist(k)[-1] for k in request.query_params if k in fields}
