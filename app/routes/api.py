"""The JSON API under /api/v1 (and /healthz)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, File, Path, Request, UploadFile
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from app.errors import BadRequest, ImageTooLarge
from app.schemas import ClassifyRequest, ClassifyResponse, ImageInfo, ModelInfo, SampleInfo
from app.services.images import SAMPLE_PREFIX, ImageService
from app.web.deps import ClassifierDep, ExecutorDep, ImagesDep, ResultsDep, ZooDep
from app.web.http import json_text

router = APIRouter()
v1 = APIRouter(prefix="/api/v1")

_ERROR_TEXT = {
    400: "A request body that cannot be parsed (not UTF-8 JSON, or broken multipart), or an unknown Host.",
    403: "Refused: a request from another site (its Origin), or a cancel without this job's cancel token.",
    404: "Unknown model, image, sample, job or session.",
    413: "The body (JSON or upload) or the image is too large.",
    415: "Not an accepted image format.",
    422: "Invalid input, or an image that cannot be decoded.",
    503: "Model unavailable, or the server is busy (see Retry-After).",
    504: "The work took longer than the request deadline.",
}


def errors(*codes: int) -> dict[int, dict]:
    """The OpenAPI ``responses`` for the error statuses an operation can return."""
    return {
        code: {
            "description": _ERROR_TEXT[code],
            "content": {"application/json": {"example": {"detail": _ERROR_TEXT[code]}}},
        }
        for code in codes
    }


def own_error_lists(app: FastAPI, *more: Callable[[dict], None]) -> None:
    """Each operation's OpenAPI lists only the errors above that it declares: FastAPI adds a
    "Validation Error" 422 to every operation with parameters, even where none can fail (a path id).
    ``more``: further edits of the generated schema, made once."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for edit in more:
                edit(schema)
            for operations in schema["paths"].values():
                for operation in operations.values():
                    responses = operation.get("responses", {})
                    if responses.get("422", {}).get("description") == "Validation Error":
                        del responses["422"]
        return app.openapi_schema

    app.openapi = openapi


# What each kind of operation can answer besides success. Any request: 400 for an unknown Host;
# any POST or DELETE: 403 from another site; any body: 400 unparsable, 413 too large, 422 invalid.
READ = errors(400, 404)
BODY = errors(400, 403, 413, 422)
MODEL_WORK = errors(400, 403, 404, 413, 422, 503, 504)  # a JSON body naming models and images, then model work
PNG = {200: {"content": {"image/png": {}}, "description": "A PNG image."}}
ImageId = Annotated[str, Path(description="An image id (64 hexadecimal characters).")]


# /docs and /redoc load Swagger UI and ReDoc from static/vendor (pinned npm packages), not a CDN:
# they work on a machine without internet, and the pages' policy names no other site.
@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> Response:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="AdvLab API",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        oauth2_redirect_url="/docs/oauth2-redirect",
    )


@router.get("/docs/oauth2-redirect", include_in_schema=False)
async def swagger_ui_redirect() -> Response:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", include_in_schema=False)
async def redoc() -> Response:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="AdvLab API",
        with_google_fonts=False,
        redoc_js_url="/static/vendor/redoc.standalone.js",
        redoc_favicon_url="/static/favicon.svg",
    )


@router.get("/healthz", tags=["meta"])
async def healthz(zoo: ZooDep, executor: ExecutorDep, results: ResultsDep) -> dict:
    return {
        "status": "ok",
        "device": str(zoo.device),
        "queue": executor.pending,
        "executor": executor.stats,
        "results": results.stats,
    }


@v1.get("/models", tags=["models"])
async def models(classifier: ClassifierDep) -> list[ModelInfo]:
    """Every model in the zoo, with its measured metrics and whether it is loaded."""
    return classifier.list_models()


@v1.get("/samples", tags=["images"])
async def samples(images: ImagesDep) -> list[SampleInfo]:
    """The built-in gallery: MNIST test digits and photos. Use them as ``sample:<id>``."""
    return images.list_samples()


@v1.get("/samples/{sample_id}.png", tags=["images"], response_class=Response, responses=PNG | READ)
async def sample_png(images: ImagesDep, sample_id: str) -> Response:
    return _png(images.image_png(SAMPLE_PREFIX + sample_id))


@v1.post("/images", tags=["images"], status_code=201, responses=errors(400, 403, 413, 415, 422))
async def upload_image(
    request: Request, images: ImagesDep, file: Annotated[UploadFile, File(description="PNG, JPEG, WebP, GIF or BMP")]
) -> ImageInfo:
    """Store an image (content-addressed). Limits: ADVLAB_MAX_UPLOAD_BYTES, ADVLAB_MAX_IMAGE_PIXELS,
    and ADVLAB_IMAGE_STORE_CLIENT_MAX_BYTES of uploads kept per client (its oldest go first)."""
    return await keep_upload(request, images, file)


@v1.get("/images/{image_id}.png", tags=["images"], response_class=Response, responses=PNG | READ)
async def image_png(images: ImagesDep, image_id: ImageId) -> Response:
    return _png(images.image_png(image_id))


@v1.post("/classify", tags=["models"], responses=MODEL_WORK, response_model=ClassifyResponse)
async def classify(classifier: ClassifierDep, body: ClassifyRequest) -> Response:
    """Top-k predictions, and the preprocessed picture the model actually saw."""
    return json_body(await classifier.classify(body.model, body.image, body.top_k))


async def keep_upload(request: Request, images: ImageService, file: UploadFile | None) -> ImageInfo:
    """Read, check and store an upload, under its client's share of the image store."""
    return await images.store_upload(await read_upload(images.max_upload_bytes, file), client_key(request))


async def show_upload(
    htmx: bool, path: str, model: str, image_id: str, show: Callable[[], Awaitable[Response]], **also: str
) -> Response:
    """After an upload, its result at its permalink: a redirect there, or (htmx) the page shown in
    place by ``show()`` with that URL pushed to the address bar. ``also``: further choices the
    permalink keeps (e.g. a direction)."""
    url = f"{path}?" + urlencode({"model": model, "image": image_id, **{k: v for k, v in also.items() if v}})
    if not htmx:
        return RedirectResponse(url, status_code=303)
    response = await show()
    response.headers["HX-Push-Url"] = url
    return response


def client_key(request: Request) -> str:
    """Whose upload it is: the client's address (behind a proxy, the one it forwards; see docs/operations.md)."""
    return request.client.host if request.client else "unknown"


async def read_upload(limit: int, file: UploadFile | None) -> bytes:
    """An uploaded file's bytes, up to ``limit`` bytes; a clear 422 when no file was chosen."""
    if file is None or not file.filename:
        raise BadRequest("Choose an image file to upload first (PNG, JPEG, WebP, GIF or BMP).")
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ImageTooLarge(f"The upload is larger than the {limit:,}-byte limit.")
    return data


def json_body(model: BaseModel) -> Response:
    """A response model our own code built (so already valid) as JSON, skipping FastAPI's second
    validation and encoding of it: for big results on busy endpoints that costs more on the event
    loop than the model work itself. Routes declare ``response_model`` so the docs stay right."""
    return Response(json_text(model.model_dump(mode="json")), media_type="application/json")


def _png(data: bytes) -> Response:
    # Content-addressed: the bytes behind a URL never change.
    return Response(data, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


router.include_router(v1)
