"""HTTP plumbing shared by every route: the body-size cap and the error responses.

API paths (/api/...) get ``{"detail": "..."}`` JSON; pages get the message rendered in place
(the whole page, or the ``error`` block for htmx requests).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import AppError
from app.templating import is_htmx, render


def too_large(max_bytes: int) -> HTTPException:
    return HTTPException(413, f"The upload is larger than the {max_bytes // (1024 * 1024)} MB limit. "
                              "Please send a smaller image.")


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes``: by Content-Length up front, or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            response = JSONResponse({"detail": too_large(self.max_bytes).detail}, status_code=413)
            return await response(scope, receive, send)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise too_large(self.max_bytes)  # FastAPI re-raises HTTPExceptions from body parsing
            return message

        await self.app(scope, limited, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


async def _app_error(request: Request, exc: AppError) -> Response:
    return error_response(request, exc.status_code, exc.message, exc.headers)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return error_response(request, exc.status_code, str(exc.detail), exc.headers or {})


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = "; ".join(_describe(e) for e in exc.errors())
    return error_response(request, 422, f"Some of the input is not valid: {problems}.", {},
                          errors=jsonable_errors(exc))


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form"))
    return f"{where or 'request'}: {error.get('msg', 'invalid')}"


def jsonable_errors(exc: RequestValidationError) -> list[dict]:
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]


def error_response(request: Request, status: int, message: str, headers: dict[str, str],
                   **extra: object) -> Response:
    if request.url.path.startswith("/api/") or request.url.path in ("/healthz", "/openapi.json"):
        return JSONResponse({"detail": message, **extra}, status_code=status, headers=headers)
    if is_htmx(request):  # show the message above the controls instead of replacing them
        headers = {**headers, "HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
        return render(request, "error.html", {"status": status, "message": message}, block="error",
                      status_code=status, headers=headers)
    return render(request, "error.html", {"status": status, "message": message},
                  status_code=status, headers=headers)
