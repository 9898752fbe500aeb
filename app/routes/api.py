"""The JSON API under /api/v1 (and /healthz)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import Response
from pydantic import BaseModel

from app import services
from app.deps import LabDep
from app.errors import BadRequest, ImageTooLarge
from app.schemas import ClassifyRequest, ClassifyResponse, ImageInfo, ModelInfo, SampleInfo
from app.services import Lab

router = APIRouter()
v1 = APIRouter(prefix="/api/v1")

ERRORS = {code: {"description": text, "content": {"application/json": {"example": {"detail": text}}}}
          for code, text in [
              (400, "A request body that cannot be parsed (not UTF-8 JSON, or broken multipart)."),
              (404, "Unknown model, image or sample."),
              (413, "Upload or image too large."),
              (415, "Not an accepted image format."),
              (422, "Invalid input, or an image that cannot be decoded."),
              (503, "Model unavailable, or the server is busy (see Retry-After)."),
              (504, "The work took longer than the request deadline."),
          ]}
PNG = {200: {"content": {"image/png": {}}, "description": "A PNG image."}}
ImageId = Annotated[str, Path(description="An image id (64 hexadecimal characters).")]


# /docs and /redoc load Swagger UI and ReDoc from static/vendor (pinned npm packages), not a CDN:
# they work on a machine without internet, and the pages' policy names no other site.
@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> Response:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="AdvLab API",
                               swagger_js_url="/static/vendor/swagger-ui-bundle.js",
                               swagger_css_url="/static/vendor/swagger-ui.css",
                               swagger_favicon_url="/static/favicon.svg",
                               oauth2_redirect_url="/docs/oauth2-redirect")


@router.get("/docs/oauth2-redirect", include_in_schema=False)
async def swagger_ui_redirect() -> Response:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", include_in_schema=False)
async def redoc() -> Response:
    return get_redoc_html(openapi_url="/openapi.json", title="AdvLab API", with_google_fonts=False,
                          redoc_js_url="/static/vendor/redoc.standalone.js", redoc_favicon_url="/static/favicon.svg")


@router.get("/healthz", tags=["meta"])
async def healthz(lab: LabDep) -> dict:
    return {"status": "ok", "device": str(lab.zoo.device), "queue": lab.executor.pending,
            "executor": lab.executor.stats, "results": lab.results.stats}


@v1.get("/models", tags=["models"])
async def models(lab: LabDep) -> list[ModelInfo]:
    """Every model in the zoo, with its measured metrics and whether it is loaded."""
    return services.list_models(lab)


@v1.get("/samples", tags=["images"])
async def samples(lab: LabDep) -> list[SampleInfo]:
    """The built-in gallery: MNIST test digits and photos. Use them as ``sample:<id>``."""
    return services.list_samples(lab)


@v1.get("/samples/{sample_id}.png", tags=["images"], response_class=Response, responses=PNG | ERRORS)
async def sample_png(lab: LabDep, sample_id: str) -> Response:
    return _png(services.image_png(lab, services.SAMPLE_PREFIX + sample_id))


@v1.post("/images", tags=["images"], status_code=201, responses=ERRORS)
async def upload_image(request: Request, lab: LabDep,
                       file: Annotated[UploadFile, File(description="PNG, JPEG, WebP, GIF or BMP")]) -> ImageInfo:
    """Store an image (content-addressed). Limits: ADVLAB_MAX_UPLOAD_BYTES, ADVLAB_MAX_IMAGE_PIXELS,
    and ADVLAB_IMAGE_STORE_CLIENT_MAX_BYTES of uploads kept per client (its oldest go first)."""
    return await keep_upload(request, lab, file)


@v1.get("/images/{image_id}.png", tags=["images"], response_class=Response, responses=PNG | ERRORS)
async def image_png(lab: LabDep, image_id: ImageId) -> Response:
    return _png(services.image_png(lab, image_id))


@v1.post("/classify", tags=["models"], responses=ERRORS, response_model=ClassifyResponse)
async def classify(lab: LabDep, body: ClassifyRequest) -> Response:
    """Top-k predictions, and the preprocessed picture the model actually saw."""
    return json_body(await services.classify(lab, body.model, body.image, body.top_k))


async def keep_upload(request: Request, lab: Lab, file: UploadFile | None) -> ImageInfo:
    """Read, check and store an upload, under its client's share of the image store."""
    return await services.store_upload(lab, await read_upload(lab, file), client_key(request))


def client_key(request: Request) -> str:
    """Whose upload it is: the client's address (behind a proxy, the one it forwards; see README)."""
    return request.client.host if request.client else "unknown"


async def read_upload(lab: Lab, file: UploadFile | None) -> bytes:
    """An uploaded file's bytes, up to the size limit; a clear 422 when no file was chosen."""
    if file is None or not file.filename:
        raise BadRequest("Choose an image file to upload first (PNG, JPEG, WebP, GIF or BMP).")
    data = await file.read(lab.settings.max_upload_bytes + 1)
    if len(data) > lab.settings.max_upload_bytes:
        raise ImageTooLarge(f"The upload is larger than the {lab.settings.max_upload_bytes:,}-byte limit.")
    return data


def json_body(model: BaseModel) -> Response:
    """A response model our own code built (so already valid) as JSON, skipping FastAPI's second
    validation and encoding of it: for big results on busy endpoints that costs more on the event
    loop than the model work itself. Routes declare ``response_model`` so the docs stay right."""
    return Response(model.model_dump_json(), media_type="application/json")


def _png(data: bytes) -> Response:
    # Content-addressed: the bytes behind a URL never change.
    return Response(data, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


router.include_router(v1)
