"""Server-rendered pages. Every page works as plain forms; htmx swaps the ``lab`` block in place."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.routes.api import keep_upload, show_upload
from app.web.deps import ClassifierDep, ImagesDep, IsHtmx, ZooDep
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, classifier: ClassifierDep) -> Response:
    return render(request, "index.html", {"models": classifier.list_models()})


@router.get("/classify")
async def classify_page(
    request: Request,
    classifier: ClassifierDep,
    images: ImagesDep,
    zoo: ZooDep,
    htmx: IsHtmx,
    model: str = "",
    image: str = "",
    shown_model: str = "",
) -> Response:
    """Opens with an example classified: the model's suitable gallery picture when none is chosen
    (and after a switch of model, when the chosen sample does not suit the new one)."""
    models = classifier.list_models()
    model = model or next((m.name for m in models if m.available), "")
    image = images.image_for(zoo.entry(model), image, bool(shown_model) and shown_model != model)
    result = await classifier.classify(model, image)
    context = {**classifier.picker_context(model, image, models), "result": result}
    return render(request, "classify.html", context, block="lab" if htmx else None)


@router.post("/classify")
async def classify_upload(
    request: Request,
    classifier: ClassifierDep,
    images: ImagesDep,
    zoo: ZooDep,
    htmx: IsHtmx,
    model: Annotated[str, Form()],
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Store the upload, then show it classified at its permalink (a redirect, or the fragment and HX-Push-Url)."""
    info = await keep_upload(request, images, file)
    return await show_upload(
        htmx, "/classify", model, info.id, lambda: classify_page(request, classifier, images, zoo, htmx, model, info.id)
    )
