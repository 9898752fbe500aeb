"""HTTP plumbing shared by every route: the body-size cap, JSON with rounded numbers, and the
error responses.

API paths (/api/...) get ``{"detail": "..."}`` JSON; pages get the message rendered in place
(the whole page, or the ``error`` block for htmx requests).
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    AppError,
    BadRequest,
    BadShape,
    BrokenImage,
    Busy,
    ClientGone,
    DeadlineExceeded,
    Forbidden,
    ImageGone,
    ImageTooLarge,
    ModelUnavailable,
    NotFound,
    OutOfMemory,
    UnsupportedImage,
)
from app.web.templating import is_htmx, render

SIGNIFICANT = 7  # digits kept of a float: what float32 model outputs carry (4.999999, not 4.999999046325684)


def rounded(value: Any) -> Any:
    """``value`` with every float (in dicts and lists too) cut to SIGNIFICANT digits; NaN and
    infinities become null, as pydantic writes them."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{SIGNIFICANT}g}") if abs(value) < 1e6 else value  # not timestamps
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


def json_text(content: Any) -> bytes:
    return json.dumps(rounded(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class RoundedJSONResponse(JSONResponse):
    """The app's JSON responses, with floats rounded (see ``rounded``)."""

    def render(self, content: Any) -> bytes:
        return json_text(content)


def too_large(max_bytes: int, what: str = "upload") -> HTTPException:
    advice = "Please send a smaller image." if what == "upload" else "Please send less."
    return HTTPException(413, f"The {what} is larger than the {max_bytes // (1024 * 1024)} MB limit. {advice}")


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes``: by Content-Length up front, or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        what = "JSON body" if b"json" in headers.get(b"content-type", b"").lower() else "upload"
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            # JSON under /api, an error page for a browser's form post
            response = error_response(Request(scope), 413, too_large(self.max_bytes, what).detail, {})
            return await response(scope, receive, send)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise too_large(self.max_bytes, what)  # FastAPI re-raises HTTPExceptions from body parsing
            return message

        await self.app(scope, limited, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


# Each kind of error's HTTP status (the errors themselves know nothing of HTTP); subclasses inherit.
STATUS: dict[type[AppError], int] = {
    BadRequest: 422,
    BrokenImage: 422,
    BadShape: 422,
    Forbidden: 403,
    NotFound: 404,
    ImageTooLarge: 413,
    UnsupportedImage: 415,
    ModelUnavailable: 503,
    Busy: 503,
    OutOfMemory: 503,
    DeadlineExceeded: 504,
    ClientGone: 499,  # nobody reads it; the status nginx logs for a client that left
}


def status_of(exc: AppError) -> int:
    return next((STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS), 400)


async def _app_error(request: Request, exc: AppError) -> Response:
    upload = upload_again_url(request) if isinstance(exc, ImageGone) else None
    headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
    return error_response(request, status_of(exc), exc.message, headers, upload_url=upload)


# Pages with their own upload form; elsewhere a lost image is uploaded again on /classify.
UPLOAD_PAGES = ("/classify", "/attack", "/gradients")


def upload_again_url(request: Request) -> str:
    """Where a student can upload a picture that the store no longer holds, keeping the model."""
    path = request.url.path if request.url.path in UPLOAD_PAGES else "/classify"
    model = request.query_params.get("model")
    return f"{path}?{urlencode({'model': model})}" if model else path


NOT_JSON = (
    "The request body is not valid JSON{where}. Send one JSON object in UTF-8 with the header "
    'Content-Type: application/json, e.g. {{"model": "mnist-cnn", "image": "sample:mnist-00003"}}.'
)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    message = str(exc.detail)
    if exc.status_code == 400 and _sent_json(request):  # FastAPI could not decode the body's text
        message = NOT_JSON.format(where=" (it is not UTF-8 text)")
    elif exc.status_code == 400:  # only body parsing (Starlette, python-multipart) raises a bare 400
        message = (
            f"The request body could not be read ({message.rstrip('.')}). Send an image as a "
            "multipart/form-data field named file (e.g. curl -F file=@digit.png; file names "
            "over about 4,000 characters are refused), and JSON as application/json."
        )
    return error_response(request, exc.status_code, message, exc.headers or {})


def _sent_json(request: Request) -> bool:
    return "json" in request.headers.get("content-type", "").lower()


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    broken = [e for e in exc.errors() if e.get("type") == "json_invalid"]
    if broken:  # the JSON itself, not what it says: 400, like any body that cannot be parsed
        at = broken[0].get("loc", ())[-1]
        where = f" (it breaks off or goes wrong at character {at})" if isinstance(at, int) else ""
        return error_response(request, 400, NOT_JSON.format(where=where), {})
    problems = "; ".join(_describe(e) for e in exc.errors())
    return error_response(request, 422, f"Some of the input is not valid: {problems}.", {}, errors=jsonable_errors(exc))


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form"))
    message = error.get("msg", "invalid")
    if "Expected UploadFile" in message:  # a form field without a file name: text, not a file
        message = "this must be a file (choose an image to upload)"
    return f"{where or 'request'}: {message}"


def jsonable_errors(exc: RequestValidationError) -> list[dict]:
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str], upload_url: str | None = None, **extra: object
) -> Response:
    """JSON under /api; elsewhere the error page (``upload_url``: a link to upload an image again)."""
    if request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/openapi.json"):
        return RoundedJSONResponse({"detail": message, **extra}, status_code=status, headers=headers)
    context = {"status": status, "message": message, "upload_url": upload_url}
    if is_htmx(request):  # show the message above the controls instead of replacing them
        headers = {**headers, "HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
        return render(request, "error.html", context, block="error", status_code=status, headers=headers)
    return render(request, "error.html", context, status_code=status, headers=headers)
