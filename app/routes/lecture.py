"""Lecture mode: /present toggles the presentation view, /presets lists the curated demos and a
lecturer's own list, /presets/{k} opens demo k as part of the sequence.

All of it is plain GET links and forms that set a cookie and redirect (no accounts, nothing stored
on the server), so it works with JavaScript off; static/js/lecture.js adds keyboard shortcuts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.errors import NotFound
from app.gan.zoo import Generators
from app.labs import EXPERIMENTS
from app.runtime import jobs
from app.runtime.jobs import JobManager
from app.web import lecture
from app.web.deps import GeneratorsDep, JobsDep, ZooDep
from app.web.presets import PRESETS, Preset
from app.web.templating import render
from app.zoo import Zoo

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Query(max_length=lecture.MAX_TOKEN)]


def _set(response: Response, name: str, value: str | None) -> None:
    """Set a lecture cookie for a year (None: delete it). Not HttpOnly: lecture.js toggles the
    same cookies, and they hold preferences, never anything secret."""
    if value is None:
        response.delete_cookie(name, path="/", samesite="lax")
    else:
        response.set_cookie(name, value, max_age=lecture.COOKIE_MAX_AGE, path="/", samesite="lax")


@router.get("/present")
async def present(
    on: bool | None = None,
    controls: Literal["show", "hide"] | None = None,
    next: Annotated[str, Query(max_length=lecture.MAX_PATH)] = "/",
) -> Response:
    """Turn the presentation view on or off (``on``) and hide or show its controls, then go back."""
    response = RedirectResponse(lecture.same_site_path(next), status_code=303)
    if on is not None:
        _set(response, lecture.PRESENT, "1" if on else None)
        if not on:
            _set(response, lecture.BARE, None)  # leaving the view brings the controls back
    if controls is not None:
        _set(response, lecture.BARE, "1" if controls == "hide" else None)
    return response


@router.get("/presets")
async def presets_page(
    request: Request,
    zoo: ZooDep,
    generators: GeneratorsDep,
    queue: JobsDep,
    mine: Text = "",
    url: Text = "",
    title: Text = "",
) -> Response:
    """The curated demos, your own list (from ``mine``, else the one this browser last opened), and a
    form that adds a page to it (``url`` and ``title`` fill it in: "save this page" links here)."""
    token, items = lecture.opened(mine) if mine else lecture.remembered(request)
    context = {
        "presets": PRESETS,
        "missing": {p.slug: missing(zoo, generators, queue, p) for p in PRESETS},
        "token": token,
        "items": items,
        "new_url": url,
        "new_title": title,
        "limits": {"max_items": lecture.MAX_ITEMS, "title": lecture.MAX_TITLE, "path": lecture.MAX_PATH},
    }
    response = render(request, "presets.html", context)
    if mine:
        _set(response, lecture.MINE, token)  # remembered, so that "save this page" adds to this list
    return response


@router.get("/presets/add")
async def add(mine: Text = "", title: Text = "", url: Text = "") -> Response:
    """Your list with one more preset: a redirect to its new link, the one to bookmark."""
    items = (lecture.decode(mine) if mine else []) + [lecture.saved(title, url)]
    return RedirectResponse(f"/presets?mine={lecture.encode(items)}#mine", status_code=303)


@router.get("/presets/remove")
async def remove(mine: Text, index: Annotated[int, Query(ge=1)]) -> Response:
    items = lecture.decode(mine)
    if index > len(items):
        raise NotFound(f"Your list has {len(items)} presets; there is no number {index} to remove.")
    del items[index - 1]
    if not items:
        return await forget()
    return RedirectResponse(f"/presets?mine={lecture.encode(items)}#mine", status_code=303)


@router.get("/presets/forget")
async def forget() -> Response:
    """Start a new list: this browser forgets the last one (its bookmarked link still works)."""
    response = RedirectResponse("/presets#mine", status_code=303)
    _set(response, lecture.MINE, None)
    return response


@router.get("/presets/leave")
async def leave(next: Annotated[str, Query(max_length=lecture.MAX_PATH)] = "/presets") -> Response:
    """Leave the sequence: the previous/next links go away."""
    response = RedirectResponse(lecture.same_site_path(next), status_code=303)
    _set(response, lecture.DEMO, None)
    return response


@router.get("/presets/mine/{k}")
async def open_mine(request: Request, k: Annotated[int, Path(ge=1)], mine: Text = "") -> Response:
    """Item k of your own list, opened as part of its sequence."""
    token, items = lecture.opened(mine) if mine else lecture.remembered(request)
    if k > len(items):
        raise NotFound(
            f"Your list has {len(items)} presets, so there is no number {k}. "
            "Open it from its bookmarked /presets?mine=… link first."
        )
    response = RedirectResponse(items[k - 1].url, status_code=303)
    _set(response, lecture.DEMO, f"mine-{k}")
    _set(response, lecture.MINE, token)
    return response


@router.get("/presets/{k}")
async def open_preset(k: Annotated[int, Path(ge=1)]) -> Response:
    """Demo k of the curated sequence: remember the position, then show its permalink."""
    if k > len(PRESETS):
        raise NotFound(f"There are {len(PRESETS)} demos, numbered 1 to {len(PRESETS)}; {k} is not one of them.")
    response = RedirectResponse(PRESETS[k - 1].url, status_code=303)
    _set(response, lecture.DEMO, str(k))
    return response


def missing(zoo: Zoo, generators: Generators, queue: JobManager, p: Preset) -> list[str]:
    """What the demo needs that this server does not have yet (models still training, or an
    experiment whose default run has not been shipped)."""
    available = {name for name, e in {**zoo.entries, **generators.entries}.items() if e.available}
    return [need for need in p.needs if not _has(queue, need, available)]


def _has(queue: JobManager, need: str, available: set[str]) -> bool:
    if not need.startswith("experiment:"):
        return need in available
    kind = need.removeprefix("experiment:")
    job = queue.jobs.get(jobs.job_id(kind, EXPERIMENTS[kind].Params().model_dump()))
    return job is not None and job.status == "done"
