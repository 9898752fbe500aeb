"""Annotated dependency aliases for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.services import Lab
from app.web.templating import is_htmx


def get_lab(request: Request) -> Lab:
    return request.app.state.lab


def get_is_htmx(request: Request) -> bool:
    return is_htmx(request)


LabDep = Annotated[Lab, Depends(get_lab)]
IsHtmx = Annotated[bool, Depends(get_is_htmx)]
