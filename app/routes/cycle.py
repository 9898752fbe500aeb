"""CycleGAN translation: JSON under /api/v1/translators, and the /cyclegan page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.errors import InvalidField
from app.gan.latent import MAX_INDEX
from app.routes.api import MODEL_WORK, keep_upload, show_upload
from app.schemas.cycle import TranslateRequest, TranslateResponse, TranslatorInfo
from app.services.cycle import TranslateService
from app.services.images import ImageService
from app.web.deps import ImagesDep, IsHtmx, TranslateDep
from app.web.templating import render

router = APIRouter()
api = APIRouter(prefix="/api/v1/translators", tags=["gan"])
pages = APIRouter(include_in_schema=False)

FACES = "dcgan-faces"  # the GAN whose faces the page offers
STRIP = 12  # faces to pick from


@api.get("")
async def list_translators(translate: TranslateDep) -> list[TranslatorInfo]:
    """Every CycleGAN: its two domains and directions, what reads its pictures, and its measured figures."""
    return translate.list_translators()


@api.post("/{name}", responses=MODEL_WORK)
async def translate_face(translate: TranslateDep, name: str, body: TranslateRequest) -> TranslateResponse:
    """A face (an uploaded image, centre-cropped and resized, or one a face GAN draws) translated to
    the other domain and back: x, G(x) and F(G(x)) as PNGs, the judge's probability of the attribute
    in each, and the cycle error mean |F(G(x)) - x|."""
    return await translate.translate(name, body)


@pages.get("/cyclegan")
async def cyclegan_page(
    request: Request,
    translate: TranslateDep,
    images: ImagesDep,
    htmx: IsHtmx,
    model: str = "",
    direction: str = "",
    seed: str = "",
    index: str = "",
    image: str = "",
) -> Response:
    """The form's number fields may come empty ("auto"): read here, with a message a student understands."""
    return await _page(
        request,
        translate,
        images,
        htmx,
        model,
        direction,
        _whole(seed, "seed", 2**31 - 1) or 0,
        _whole(index, "index", MAX_INDEX),
        image,
    )


def _whole(text: str, field: str, most: int) -> int | None:
    """A form's whole number, None when left empty."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or int(text) > most:
        raise InvalidField(field, f"The {field} must be a whole number from 0 to {most:,}, not {text[:20]!r}.")
    return int(text)


async def _page(
    request: Request,
    translate: TranslateService,
    images: ImageService,
    htmx: bool,
    model: str,
    direction: str,
    seed: int,
    index: int | None,
    image: str,
) -> Response:
    translators = translate.list_translators()
    current = next((t for t in translators if t.name == model), None) or next(
        (t for t in translators if t.available), None
    )
    context: dict = {"translators": translators, "current": current, "seed": seed, "index": index, "image": image}
    context["max_upload_mb"] = images.max_upload_bytes // (1024 * 1024)
    if current is None or not current.available:
        return render(request, "cyclegan.html", {**context, "result": None, "faces": []}, block="lab" if htmx else None)
    direction = direction or current.directions[0]
    faces = await translate.faces(FACES, seed, STRIP)
    if not image and index is None:  # the first face of the strip on the side the direction starts from
        starts_with = direction == current.directions[1]
        index = next((i for i, f in enumerate(faces) if (f.probs[current.attribute] > 0.5) == starts_with), 0)
    source = {"image": image} if image else {"generator": FACES, "seed": seed, "index": index}
    result = await translate.translate(current.name, TranslateRequest(direction=direction, **source))
    context.update(model=current.name, direction=direction, index=index, faces=faces, result=result, generator=FACES)
    return render(request, "cyclegan.html", context, block="lab" if htmx else None)


@pages.post("/cyclegan")
async def cyclegan_upload(
    request: Request,
    translate: TranslateDep,
    images: ImagesDep,
    htmx: IsHtmx,
    model: Annotated[str, Form()] = "",
    direction: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store the upload, then show it translated at its permalink (a redirect, or the fragment and HX-Push-Url)."""
    info = await keep_upload(request, images, file)
    return await show_upload(
        htmx,
        "/cyclegan",
        model,
        info.id,
        lambda: _page(request, translate, images, htmx, model, direction, 0, None, info.id),
        direction=direction,
    )


router.include_router(api)
router.include_router(pages)
