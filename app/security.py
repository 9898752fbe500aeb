"""Security headers on every response, and refusing state-changing requests from other sites.

Both are plain ASGI middleware so that they also cover static files, error pages and the
413 that the body-size cap sends before any route runs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http import error_response

# No inline script anywhere: every behaviour lives in /static/js. Templates do use style
# attributes (bar widths, chart colours), hence 'unsafe-inline' for styles only.
PAGE_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# FastAPI's Swagger UI (/docs) and ReDoc (/redoc) load their JS and CSS from jsDelivr and start
# with an inline script. We chose a relaxed policy for these two pages rather than vendoring the
# bundles: they render only our own OpenAPI schema (no user content), so an inline script there
# carries none of the risk the strict policy guards against on the lab's pages.
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join([
    "default-src 'self'",
    f"script-src 'self' 'unsafe-inline' {DOCS_CDN}",
    f"style-src 'self' 'unsafe-inline' {DOCS_CDN} https://fonts.googleapis.com",
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "font-src 'self' https://fonts.gstatic.com",
    "worker-src 'self' blob:",  # ReDoc searches in a web worker
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def policy_for(path: str) -> str:
    return DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY


class SecurityHeadersMiddleware:
    """Add the Content-Security-Policy and the other security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        added = [(b"content-security-policy", policy_for(scope["path"]).encode()), *COMMON_HEADERS]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in added if k not in present]  # a route may set its own
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- cross-site request forgery -------------------------------------------------------------------

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CROSS_SITE_MESSAGE = ("This request came from another website, so AdvLab refused it: changes can only "
                      "be made from AdvLab's own pages (or from scripts, which send no Origin header).")
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class CrossOriginGuardMiddleware:
    """Refuse POST/PUT/PATCH/DELETE that a browser sent on behalf of another site (403).

    Browsers name the page's origin in ``Origin`` on these requests; another site can make a
    student's browser post a form to AdvLab but cannot forge that header. Requests without
    ``Origin`` (curl, scripts) pass: they carry no cookies or ambient authority of a student's
    browser to abuse."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS and is_cross_site(scope):
            response = error_response(Request(scope), 403, CROSS_SITE_MESSAGE, {})
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


def is_cross_site(scope: Scope) -> bool:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    return not same_host(origin, headers.get("host", ""))


def same_host(origin: str, host: str) -> bool:
    """Whether an Origin (``scheme://host[:port]``) names the Host header's host and port.

    A Host without a port takes the Origin scheme's default: behind a TLS proxy the app sees
    ``Host: example.org`` for ``Origin: https://example.org``. ``Origin: null`` never matches."""
    try:
        o = urlsplit(origin)
        h = urlsplit("//" + host)
        o_port = o.port or DEFAULT_PORTS.get(o.scheme)
        h_port = h.port or DEFAULT_PORTS.get(o.scheme)
    except ValueError:  # a malformed port in either header
        return False
    return bool(o.hostname) and o.hostname == h.hostname and o_port == h_port
