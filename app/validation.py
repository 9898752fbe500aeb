"""Checks that request bodies and an attack's Params share (pydantic only: the core may use it)."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel


def no_booleans_for_numbers(model: type[BaseModel], data: Any) -> Any:
    """Refuse true/false for a number field: pydantic would take them as 1 and 0 (a model-level
    "before" validator: ``data`` is the raw input)."""
    if isinstance(data, dict):
        for name, field in model.model_fields.items():
            if isinstance(data.get(name), bool) and _takes_a_number(field.annotation):
                raise ValueError(f"{name}: true or false is not a number")
    return data


def _takes_a_number(annotation: Any) -> bool:
    """int or float, alone or in a union (int | None, int | str), but not a field that takes bool."""
    options = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    return any(o in (int, float) for o in options) and bool not in options
