"""The attack lab: JSON under /api/v1/attacks, and the /attack page (htmx swaps its result block)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app.attacks import ATTACKS
from app.errors import BadRequest
from app.routes.api import MODEL_WORK, json_body, keep_upload
from app.schemas.attacks import AttackInfo, AttackRequest, AttackResponse, SweepRequest, SweepResponse
from app.services import attacks as attack_service
from app.services.images import SAMPLE_PREFIX
from app.web.deps import AttacksDep, ImagesDep, StoreDep, ZooDep
from app.web.http import status_of
from app.web.templating import is_htmx, render

api = APIRouter(prefix="/api/v1/attacks", tags=["attacks"])


@api.get("")
async def list_attacks() -> list[AttackInfo]:
    """Every attack with its norm, whether it can be targeted, and its Params JSON schema."""
    return attack_service.list_attacks()


@api.post("/fgsm/sweep", responses=MODEL_WORK, response_model=SweepResponse)
async def fgsm_sweep(attacks: AttacksDep, body: SweepRequest) -> Response:
    """FGSM at a whole grid of ε from one gradient: FGSM's direction does not depend on ε, so the
    original and the sign of the step (two PNGs) and the predictions at every ε (one batched
    forward) let a page draw any slider position itself, x_adv(ε) = clip(x + ε·sign, 0, 1), with
    no request per move. At most 101 values of ε; identical requests share one computation."""
    return json_body(await attacks.fgsm_sweep(body))


def _attack_route(name: str):
    async def run_one(request: Request, attacks: AttacksDep, body: AttackRequest) -> Response:
        return json_body(await attacks.attack(name, body, disconnected=request.is_disconnected))

    # Real annotations, not the strings of ``from __future__ import annotations``: Ray Serve pickles this
    # closure by value, and there the strings would not resolve (the body would be read as a query parameter).
    run_one.__annotations__ = {"request": Request, "attacks": AttacksDep, "body": AttackRequest, "return": Response}
    return run_one


# One documented operation per attack, its request naming that attack's parameters (typed_params).
for _attack in ATTACKS.values():
    api.add_api_route(
        f"/{_attack.name}",
        _attack_route(_attack.name),
        methods=["POST"],
        responses=MODEL_WORK,
        response_model=AttackResponse,
        summary=_attack.title,
        operation_id=f"attack_{_attack.name.replace('-', '_')}",
        description=f"{_attack.title} on one image ({_attack.norm}; {_attack.paper}). Same request and seed, same "
        "result. Steps are bounded by its parameters; the work stops with a 504 after "
        "ADVLAB_REQUEST_TIMEOUT_S seconds, and at its next step when the client disconnects.",
    )


@api.post("/{name}", responses=MODEL_WORK, response_model=AttackResponse, include_in_schema=False)
async def run_attack(request: Request, attacks: AttacksDep, name: str, body: AttackRequest) -> Response:
    """Any attack by name: a 404 that lists the attacks for an unknown one."""
    return json_body(await attacks.attack(name, body, disconnected=request.is_disconnected))


def typed_params(schema: dict) -> None:
    """In the OpenAPI schema, each attack's operation takes ``params`` as that attack's Params (a
    request schema per attack) rather than a free-form object."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for attack in ATTACKS.values():
        operation = schema["paths"].get(f"/api/v1/attacks/{attack.name}", {}).get("post")
        if operation is None:
            continue
        title = f"{attack.Params.__name__.removesuffix('Params')}AttackRequest"
        body = AttackRequest.model_json_schema()
        params = attack.Params.model_json_schema()
        body["properties"]["params"] = {**params, "description": f"{attack.title}'s parameters."}
        components[title] = {**body, "title": title}
        operation["requestBody"]["content"]["application/json"]["schema"] = {"$ref": f"#/components/schemas/{title}"}


pages = APIRouter(include_in_schema=False)


@pages.get("/attack")
async def attack_page(
    request: Request,
    attacks: AttacksDep,
    images: ImagesDep,
    zoo: ZooDep,
    store: StoreDep,
    model: str = "mnist-cnn",
    image: str = "",
    attack: str = "fgsm",
    target: str = "",
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    run: bool = False,
    shown_model: str = "",
) -> Response:
    """The attack lab. ``run`` runs the attack (FGSM, one gradient, always runs); without it the
    form (for a new model or attack) is shown. ``shown_model`` is the model the form was drawn for:
    after a switch, the new model's picture and parameters apply. htmx requests aimed at #result
    get only the result block, others the ``lab`` block. A bad input keeps the form (422)."""
    chosen = attack_service.get_attack(attack)
    entry = zoo.entry(model)
    switched = bool(shown_model) and shown_model != model
    raw = {**attack_service.model_defaults(chosen, entry), **({} if switched else _params_from_query(request, chosen))}
    image = images.image_for(entry, image, switched)
    body = AttackRequest(model=model, image=image, target=None if switched else target or None, params=raw, seed=seed)
    if image and not image.startswith(SAMPLE_PREFIX):
        store.check(image)  # a permalink to an evicted upload: a 404 that says to upload it again
    result, error = None, None
    if run or chosen.name == "fgsm":
        try:
            result = await attacks.attack(attack, body, disconnected=request.is_disconnected)
        except BadRequest as exc:
            error = exc
    context = attacks.page_context(body, attack, result, error)
    block = None if not is_htmx(request) else ("result" if request.headers.get("HX-Target") == "result" else "lab")
    return render(request, "attack.html", context, block=block, status_code=status_of(error) if error else 200)


@pages.post("/attack")
async def attack_upload(
    request: Request,
    images: ImagesDep,
    file: Annotated[UploadFile | None, File()] = None,
    model: Annotated[str, Form()] = "mnist-cnn",
    attack: Annotated[str, Form()] = "fgsm",
) -> Response:
    """Store an upload and show the attack form with it (a redirect, or HX-Location for htmx). The
    upload button belongs to the lab's form, so the model and attack chosen there come along."""
    info = await keep_upload(request, images, file)
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
