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
    judge: str | None
    metrics: dict[str, Any]
    available: bool
    reason: str | None = None


class UpscaleRequest(RequestBody):
    image: str = IMAGE_REF
    top_k: int = Field(3, ge=1, le=10)


class UpscaledImage(BaseModel):
    method: str = Field(description="original, low, bicubic, pixel or adversarial.")
    image: ImageInfo
    psnr: float | None = Field(description="Against the original, in dB (None for the original itself).")
    sharpness: float = Field(description="Mean gradient magnitude: higher is crisper.")
    predictions: list[Prediction] = Field(description="What the judge reads in it.")


class UpscaleResponse(BaseModel):
    upscaler: str
    image: str
    judge: str
    results: list[UpscaledImage] = Field(
        description="The original (as the judge's model input), the low-resolution "
        "input, bicubic, the pixel-loss and the adversarial upscaler."
    )
