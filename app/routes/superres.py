"""GAN super-resolution: JSON under /api/v1/upscalers, and the /superres page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.routes.api import MODEL_WORK, keep_upload, show_upload
from app.schemas.superres import UpscaleRequest, UpscaleResponse, UpscalerInfo
from app.web.deps import ClassifierDep, ImagesDep, IsHtmx, UpscaleDep
from app.web.templating import render

router = APIRouter()
api = APIRouter(prefix="/api/v1/upscalers", tags=["gan"])
pages = APIRouter(include_in_schema=False)


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
    image = image or "sample:mnist-00003"
    result = await superres.upscale(model, UpscaleRequest(image=image)) if model else None
    context = {
        **classifier.picker_context(model, image),
        "upscalers": upscalers,
        "result": result,
        "samples": [s for s in images.list_samples() if s.kind == "digit"],
    }
    return render(request, "superres.html", context, block="lab" if htmx else None)


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
