"""Lecture mode: the presentation view, the demo sequence, and lecturers' own preset lists.

There are no accounts, so every setting lives in a cookie or in a link:

* ``present`` (large type, high contrast) and ``bare`` (controls hidden): set by GET /present, or by
  static/js/lecture.js directly; base.html turns them into classes on <body>.
* ``demo``: where you are in a sequence, "3" for the third curated preset or "mine-3" for the third
  of your own list. base.html shows previous/next links while it is set.
* ``mine``: your own list of presets, a URL-safe base64 of a small JSON list of {title, url}. The
  same text is the ``mine`` parameter of the /presets link you bookmark; the cookie only remembers
  the last list this browser opened, so that "save this page" can add to it.

Every URL a visitor hands us (a redirect's ``next``, a saved preset's ``url``) must be a path on this
site: otherwise a link to AdvLab could send a student somewhere else (an open redirect).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from app.errors import BadRequest
from app.web.presets import PRESETS

PRESENT, BARE, DEMO, MINE = "present", "bare", "demo", "mine"
COOKIE_MAX_AGE = 365 * 24 * 3600

# A saved list must fit in one cookie (browsers keep at most 4,096 bytes per cookie).
MAX_PATH = 500
MAX_TITLE = 80
MAX_ITEMS = 12
MAX_TOKEN = 3000
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]*")  # URL-safe base64 without padding: safe in links and cookies


@dataclass(frozen=True)
class Saved:
    title: str
    url: str


@dataclass(frozen=True)
class Step:
    """One position in a sequence of demos, with the links around it."""

    number: int  # counted from 1
    total: int
    title: str
    summary: str
    url: str  # the demo's own permalink
    prev: str | None  # links that open the neighbouring demos in the sequence
    next: str | None
    mine: bool  # the lecturer's own list rather than the curated one


@dataclass(frozen=True)
class View:
    """What base.html needs to know about lecture mode for one request."""

    present: bool
    bare: bool
    here: str  # this page's path and query: where the toggles come back to
    step: Step | None


# --- same-site paths ------------------------------------------------------------------------------


def same_site_path(value: str, what: str = "next") -> str:
    """``value`` if it is a path on this site ("/attack?..."), else a 422 that says why.

    Browsers read "//host", "/\\host" and paths with tabs or newlines in them ("/\\t/host") as
    links to another site, so those are refused along with anything that has a scheme or a host."""
    if len(value) > MAX_PATH:
        raise BadRequest(f"The {what} address is longer than {MAX_PATH} characters.")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise BadRequest(f"The {what} address must not contain spaces or control characters.")
    parts = urlsplit(value)
    if not value.startswith("/") or value.startswith("//") or "\\" in value or parts.scheme or parts.netloc:
        raise BadRequest(
            f"The {what} address must be a path on this site, starting with a single “/”, "
            f"such as /attack?attack=fgsm; links to other sites are not allowed."
        )
    return value


def here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


# --- a lecturer's own list, as text that fits in a link and a cookie -------------------------------


def saved(title: str, url: str) -> Saved:
    """One entry, validated: a short title and a same-site path."""
    title = " ".join(title.split())  # newlines and runs of spaces would only spoil the list
    if not title:
        raise BadRequest("Give the preset a title, e.g. “FGSM on a 9”.")
    if len(title) > MAX_TITLE:
        raise BadRequest(f"The title is longer than {MAX_TITLE} characters.")
    return Saved(title, same_site_path(url.strip(), "preset's"))


def encode(items: list[Saved]) -> str:
    if len(items) > MAX_ITEMS:
        raise BadRequest(f"A list holds at most {MAX_ITEMS} presets; remove one first.")
    text = json.dumps([{"title": i.title, "url": i.url} for i in items], ensure_ascii=False, separators=(",", ":"))
    token = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    if len(token) > MAX_TOKEN:
        raise BadRequest(
            f"The list would be too long to keep in a link ({len(token):,} of at most {MAX_TOKEN:,} "
            "characters); remove a preset or shorten some titles."
        )
    return token


def decode(token: str) -> list[Saved]:
    """The list in a ``mine`` parameter; a 422 with the reason when it is not one of ours."""
    if len(token) > MAX_TOKEN:
        raise BadRequest(f"The saved list is longer than {MAX_TOKEN:,} characters: it is not one AdvLab made.")
    try:
        if not TOKEN_CHARS.fullmatch(token):
            raise ValueError("not URL-safe base64")
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):  # JSON and UTF-8 errors are ValueErrors too
        raise BadRequest(
            "The saved list in this link cannot be read: it may have been cut short when it was "
            "copied. Copy the whole link again."
        ) from None
    if not isinstance(raw, list) or len(raw) > MAX_ITEMS:
        raise BadRequest(f"A saved list is a list of at most {MAX_ITEMS} presets.")
    if not all(
        isinstance(i, dict) and set(i) == {"title", "url"} and all(isinstance(v, str) for v in i.values()) for i in raw
    ):
        raise BadRequest("Each saved preset must have a title and a url, and nothing else.")
    return [saved(i["title"], i["url"]) for i in raw]


def opened(token: str) -> tuple[str, list[Saved]]:
    """A ``mine`` parameter read and written again in our own form: only that text goes into
    cookies and links (base64 decoding skips stray characters such as ";", which must not)."""
    items = decode(token)
    return encode(items), items


def remembered(request: Request) -> tuple[str, list[Saved]]:
    """The list this browser opened last ("", [] when none or unreadable: a cookie is no request)."""
    token = request.cookies.get(MINE, "")
    try:
        return opened(token) if token else ("", [])
    except BadRequest:
        return "", []


# --- the view that base.html renders ---------------------------------------------------------------


def view(request: Request) -> View:
    cookies = request.cookies
    present = cookies.get(PRESENT) == "1"
    return View(
        present=present, bare=present and cookies.get(BARE) == "1", here=here(request), step=current_step(request)
    )


def current_step(request: Request) -> Step | None:
    """The demo the ``demo`` cookie points at, or None (no sequence, or a stale position)."""
    value = request.cookies.get(DEMO, "")
    mine = value.startswith("mine-")
    number = value.removeprefix("mine-")
    if not number.isdigit():
        return None
    items = [Saved(p.title, p.url) for p in PRESETS] if not mine else remembered(request)[1]
    summaries = [p.summary for p in PRESETS] if not mine else [""] * len(items)
    return step(items, summaries, int(number), mine)


def step(items: list[Saved], summaries: list[str], k: int, mine: bool) -> Step | None:
    if not 1 <= k <= len(items):
        return None
    link = "/presets/mine/{}" if mine else "/presets/{}"
    item = items[k - 1]
    return Step(
        number=k,
        total=len(items),
        title=item.title,
        summary=summaries[k - 1],
        url=item.url,
        prev=link.format(k - 1) if k > 1 else None,
        next=link.format(k + 1) if k < len(items) else None,
        mine=mine,
    )
