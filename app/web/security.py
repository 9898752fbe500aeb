"""Security headers on every response, and refusing state-changing requests from other sites.

Both are plain ASGI middleware so that they also cover static files, error pages and the
413 that the body-size cap sends before any route runs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.http import error_response

# No inline script anywhere: every behaviour lives in /static/js. Templates do use style
# attributes (bar widths, chart colours), hence 'unsafe-inline' for styles only.
PAGE_POLICY = "; ".join(
    [
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
    ]
)

# Swagger UI (/docs) and ReDoc (/redoc) come from static/vendor, but FastAPI's pages start them
# with an inline script, and ReDoc searches in a web worker made from a blob: these two pages allow
# that. They render only our own OpenAPI schema (no user content), so an inline script there
# carries none of the risk the strict policy guards against on the lab's pages.
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")

COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def policy_for(path: str) -> str:
    return DOCS_POLICY if path in DOCS_PATHS else PAGE_POLICY


INTERNAL_ERROR = (
    "Something went wrong inside AdvLab while answering this request; it has been logged. "
    "Please try again, or try another image or setting."
)


class SecurityHeadersMiddleware:
    """Add the Content-Security-Policy and the other security headers to every HTTP response,
    including the 500 of an unexpected error: that answer is made here (JSON under /api, a page
    elsewhere) rather than by Starlette's outer error middleware, which would send plain text
    without these headers. The error is raised on, so the server still logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        added = [(b"content-security-policy", policy_for(scope["path"]).encode()), *COMMON_HEADERS]

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in added if k not in present]  # a route may set its own
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                response = error_response(Request(scope), 500, INTERNAL_ERROR, {})
                await response(scope, receive, send_with_headers)
            raise


# --- cross-site request forgery -------------------------------------------------------------------

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CROSS_SITE_MESSAGE = (
    "This request came from another website, so AdvLab refused it: changes can only "
    "be made from AdvLab's own pages (or from scripts, which send no Origin header)."
)
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


# --- DNS rebinding: answer only to the server's own names -----------------------------------------


class TrustedHostMiddleware:
    """Refuse requests whose Host header is not one of ``ADVLAB_TRUSTED_HOSTS`` (400).

    A page of another site can point its own DNS name at 127.0.0.1 ("DNS rebinding"): the browser
    then sends Host: that-name, and the Origin check above sees a same-site request. Naming the
    hosts the server answers to closes that hole. Entries are host names or addresses, with
    ``*.example.org`` for subdomains and ``*`` for any host."""

    def __init__(self, app: ASGIApp, hosts: list[str]) -> None:
        self.app = app
        self.hosts = [h.lower() for h in hosts]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if not host_allowed(host, self.hosts):
                message = (
                    f"AdvLab here answers only to {', '.join(self.hosts)}, not to {host[:100]!r}. Whoever "
                    "runs it can add a name to ADVLAB_TRUSTED_HOSTS."
                )
                return await error_response(Request(scope), 400, message, {})(scope, receive, send)
        await self.app(scope, receive, send)


def host_allowed(host: str, allowed: list[str]) -> bool:
    try:
        name = urlsplit("//" + host).hostname or ""
    except ValueError:
        return False
    name = f"[{name}]" if ":" in name else name  # IPv6 addresses are written in brackets
    return any(a == "*" or a == name or (a.startswith("*.") and name.endswith(a[1:])) for a in allowed)
