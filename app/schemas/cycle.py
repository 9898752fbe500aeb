"""Request and response bodies of CycleGAN translation (the JSON API and the /cyclegan page)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.gan.latent import MAX_INDEX
from app.schemas import IMAGE_REF, ImageInfo, RequestBody


class TranslatorInfo(BaseModel):
    name: str
    title: str
    dataset: str
    attribute: str = Field(description="What tells the two domains apart, e.g. Smiling.")
    domains: tuple[str, str] = Field(description="Domain A (without the attribute) and domain B (with it).")
    directions: tuple[str, str] = Field(description="What to ask for: A -> B, then B -> A (e.g. smile, unsmile).")
    side: int = Field(
        description="Pictures are translated at side x side pixels; others are centre-cropped and resized."
    )
    judge: str | None = Field(description="The generator whose attribute classifier reads the pictures.")
    metrics: dict[str, Any]
    licence: str | None
    available: bool
    reason: str | None = None


class TranslateRequest(RequestBody):
    """Either ``image`` (an upload or a gallery sample) or a face drawn by ``generator``."""

    direction: str = Field(examples=["smile"], description="One of the translator's directions.")
    image: str | None = Field(None, description=IMAGE_REF + " Centre-cropped to a square and resized.")
    generator: str | None = Field(
        None, examples=["dcgan-faces"], description="A face GAN (GET /api/v1/generators) that draws the picture."
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, description="With generator: the latent's seed.")
    index: int = Field(0, ge=0, le=MAX_INDEX, description="With generator: the latent's index.")

    @model_validator(mode="after")
    def _one_source(self) -> TranslateRequest:
        if (self.image is None) == (self.generator is None):
            raise ValueError(
                'give either "image" (an uploaded image id or sample:<id>) or "generator" with "seed" and '
                '"index" (a generated face), not both and not neither'
            )
        return self


class TranslatedPicture(BaseModel):
    step: str = Field(description="x, G(x) (translated) or F(G(x)) (translated back).")
    image: ImageInfo
    attribute_prob: float = Field(description="The judge's probability that the picture shows the attribute.")
    attributes: dict[str, float] = Field(description="The judge's probability of every attribute it knows.")


class TranslateResponse(BaseModel):
    translator: str
    direction: str
    source_domain: str
    target_domain: str
    attribute: str
    judge: str
    image: str | None = Field(description="The image asked for, when one was.")
    generator: str | None = None
    seed: int | None = None
    index: int | None = None
    pictures: list[TranslatedPicture] = Field(description="x, G(x), F(G(x)), 64x64 each.")
    cycle_l1: float = Field(description="Mean |F(G(x)) - x| over the pixels, in [0, 1]: 0 is a perfect round trip.")
    change_l1: float = Field(description="Mean |G(x) - x|: how much the translation changed the picture.")
