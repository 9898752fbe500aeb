"""GAN super-resolution: JSON under /api/v1/upscalers, and the /superres page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.routes.api import MODEL_WORK, keep_upload, show_upload
from app.schemas.superres import DrawnImage, UpscaleRequest, UpscaleResponse, UpscalerInfo
from app.web.deps import ClassifierDep, ImagesDep, IsHtmx, UpscaleDep
from app.web.templating import render

router = APIRouter()
api = APIRouter(prefix="/api/v1/upscalers", tags=["gan"])
pages = APIRouter(include_in_schema=False)
DEFAULT_DIGIT = "sample:mnist-00003"


@api.get("")
async def list_upscalers(superres: UpscaleDep) -> list[UpscalerInfo]:
    """Every super-resolution network: sizes, what reads its pictures, and its measured figures."""
    return superres.list_upscalers()


@api.post("/{name}", responses=MODEL_WORK)
async def upscale(superres: UpscaleDep, name: str, body: UpscaleRequest) -> UpscaleResponse:
    """The picture (as the judge sees it), downscaled, then upscaled by bicubic interpolation, the
    pixel-loss network and the adversarially trained one, each with PSNR, sharpness and the judge's reading."""
    return await superres.upscale(name, body)


@pages.get("/superres")
async def superres_page(
    request: Request,
    superres: UpscaleDep,
    classifier: ClassifierDep,
    images: ImagesDep,
    htmx: IsHtmx,
    model: str = "",
    image: str = "",
) -> Response:
    upscalers = superres.list_upscalers()
    model = model or next((u.name for u in upscalers if u.available), "")
    current = next((u for u in upscalers if u.name == model), None)
    faces = current is not None and current.attribute_judge is not None
    offers = {u.name: await superres.drawn(u.name) for u in upscalers if u.available and u.attribute_judge}
    drawn = offers.get(model, [])
    asked = image
    image = _suited(image, faces, drawn, {d.ref for ds in offers.values() for d in ds})
    result = await superres.upscale(model, UpscaleRequest(image=image)) if model else None
    context = {
        **classifier.picker_context(model, image),
        "upscalers": upscalers,
        "current": current,
        "result": result,
        "samples": [s for s in images.list_samples() if s.kind == ("photo" if faces else "digit")],
        "drawn": drawn,
        "faces": faces,
    }
    response = render(request, "superres.html", context, block="lab" if htmx else None)
    if htmx and image != asked:  # the address bar shows the picture shown, not the one the form sent
        response.headers["HX-Push-Url"] = f"/superres?model={quote(model)}&image={quote(image)}"
    return response


def _suited(image: str, faces: bool, drawn: list[DrawnImage], drawn_faces: set[str]) -> str:
    """The chosen picture, unless it is one the other kind of upscaler offers (the picker just
    switched upscaler): then this one's first offer. Uploads are always kept."""
    digit = image.startswith("sample:mnist-")
    if faces:
        return drawn[0].ref if drawn and (not image or digit) else image
    other = image in drawn_faces or (image.startswith("sample:") and not digit)
    return DEFAULT_DIGIT if not image or other else image


@pages.post("/superres")
async def superres_upload(
    request: Request,
    superres: UpscaleDep,
    classifier: ClassifierDep,
    images: ImagesDep,
    htmx: IsHtmx,
    model: Annotated[str, Form()],
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store the upload, then show it upscaled at its permalink (a redirect, or the fragment and HX-Push-Url)."""
    info = await keep_upload(request, images, file)
    return await show_upload(
        htmx,
        "/superres",
        model,
        info.id,
        lambda: superres_page(request, superres, classifier, images, htmx, model, info.id),
    )


router.include_router(api)
router.include_router(pages)
