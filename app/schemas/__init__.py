"""Request and response bodies of the JSON API (also what the pages render)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.errors import BadRequest
from app.validation import no_booleans_for_numbers

M = TypeVar("M", bound=BaseModel)

IMAGE_REF = (
    "An image id from POST /api/v1/images (64 hex characters) or a gallery sample as "
    "sample:<id> (see GET /api/v1/samples)."
)


class RequestBody(BaseModel):
    """A request body: a key it does not know is refused (422), not silently ignored, since a typo
    such as {"eps": 0.3} at the top level would otherwise run with the default; and true/false are
    not taken for the numbers 1 and 0."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        return no_booleans_for_numbers(cls, data)


class ImageInfo(BaseModel):
    id: str
    width: int
    height: int
    url: str


class Prediction(BaseModel):
    index: int
    label: str
    prob: float


def top_predictions(probs: Iterable[float], indices: Iterable[int], classes: list[str]) -> list[Prediction]:
    """Predictions from top-k probabilities and their class indices, best first (as torch.topk gives them)."""
    return [Prediction(index=c, label=classes[c], prob=round(p, 6)) for p, c in zip(probs, indices)]


class ModelInfo(BaseModel):
    name: str
    title: str
    dataset: str
    input_shape: tuple[int, int, int]
    num_classes: int
    metrics: dict[str, Any]
    available: bool
    reason: str | None = Field(None, description="Why the model is unavailable, when it is.")
    weights_source: str | None = None


class SampleInfo(BaseModel):
    id: str = Field(description="Use as sample:<id> wherever an image is accepted.")
    title: str
    kind: str
    label: int | None
    dataset: str | None
    attribution: str
    url: str


class ClassifyRequest(RequestBody):
    model: str = Field(examples=["mnist-cnn"])
    image: str = Field(description=IMAGE_REF, examples=["sample:mnist-00003"])
    top_k: int | None = Field(None, ge=1, le=20, description="Defaults to the server's ADVLAB_TOP_K.")


class ClassifyResponse(BaseModel):
    model: str
    image: str
    predictions: list[Prediction]
    model_input: ImageInfo = Field(description="The picture the model saw, after preprocessing.")
    true_label: int | None = Field(None, description="The class of a gallery sample, when known.")
    true_label_name: str | None = None


def parse(schema: type[M], raw: dict, intro: str = "Some of the input is not valid") -> M:
    """Validate raw input (a JSON object, page inputs) into ``schema``; pydantic's complaints become a
    422 whose message names each field, e.g. "...: eps: Input should be less than or equal to 1"."""
    try:
        return schema.model_validate(raw)
    except ValidationError as exc:
        raise BadRequest(f"{intro}: {'; '.join(map(_describe, exc.errors()))}.") from None


def validated(schema: type[M], **fields: object) -> M:
    """A request body built from page inputs (query or form fields)."""
    return parse(schema, fields)


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
