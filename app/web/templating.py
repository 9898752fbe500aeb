"""Jinja2 rendering: whole pages, or one named block of a page for htmx requests.

One template per page; an htmx partial is a ``{% block %}`` of that same template, so the
full-page render (JavaScript off) and the live update share their markup.
"""

from __future__ import annotations

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.config import ROOT
from app.web import lecture

env = Environment(
    loader=FileSystemLoader(ROOT / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    name: str,
    context: dict,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page, or only ``block`` of it when given (used for htmx requests)."""
    template = env.get_template(name)
    ctx = {
        "request": request,
        "path": request.url.path,
        "htmx": is_htmx(request),
        "lecture_view": lecture.view(request),
        **context,
    }
    if block is None:
        html = template.render(ctx)
    else:
        html = "".join(template.blocks[block](template.new_context(ctx)))
    return HTMLResponse(html, status_code=status_code, headers=headers)
