"""Request and response bodies of GAN super-resolution (the JSON API and the /superres page)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.schemas import IMAGE_REF, ImageInfo, Prediction, RequestBody


class UpscalerInfo(BaseModel):
    name: str
    title: str
    dataset: str
    low: int = Field(description="Side of the low-resolution input.")
    high: int = Field(description="Side of the output.")
    judge: str | None = Field(description="A zoo classifier that reads the upscaled digits.")
    attribute_judge: str | None = Field(
        None, description="For faces: the generator whose attribute classifier reads the upscaled faces."
    )
    metrics: dict[str, Any]
    available: bool
    reason: str | None = None
    licence: str | None = None


class UpscaleRequest(RequestBody):
    image: str = IMAGE_REF
    top_k: int = Field(3, ge=1, le=10)


class UpscaledImage(BaseModel):
    method: str = Field(description="original, low, bicubic, pixel or adversarial.")
    image: ImageInfo
    psnr: float | None = Field(description="Against the original, in dB (None for the original itself).")
    sharpness: float = Field(description="Mean gradient magnitude: higher is crisper.")
    predictions: list[Prediction] = Field(
        description="What the judge reads in it: the top_k digits, or for faces the top_k attributes "
        "(each attribute's probability on its own: a face can be Male and Smiling at once)."
    )
    attributes: dict[str, float] | None = Field(
        None, description="For faces: every attribute's probability by the attribute classifier."
    )


class UpscaleResponse(BaseModel):
    upscaler: str
    image: str
    judge: str = Field(
        description="The digit classifier, or for faces the generator whose attribute classifier read them."
    )
    results: list[UpscaledImage] = Field(
        description="The original (a digit as the judge's model input; a picture's centre square at "
        "the upscaler's output size), the low-resolution input, bicubic, the pixel-loss and the "
        "adversarial upscaler."
    )


class DrawnImage(BaseModel):
    """A picture the app made for the page's picker (a face drawn by a GAN), kept in the image store."""

    ref: str = Field(description="Its image id.")
    url: str
    title: str
