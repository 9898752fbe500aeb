"""Request and response bodies of the GAN studio (the JSON API and the /gan page)."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from app.gan.latent import MAX_INDEX
from app.schemas import ImageInfo, RequestBody

MAX_SAMPLES = 64
MAX_GROUP = 8
MAX_STEPS = 32
MAX_CLASSES = 10  # the classes a conditional generator draws (digits)
MAX_STRENGTHS = 16
MAX_ABS_LATENT = 10.0
SEED = Field(0, ge=0, le=2**31 - 1)


class LatentRef(BaseModel):
    """A latent: by (seed, index), a vector N(0, I) that only depends on both, or given as ``z``."""

    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    index: int | None = Field(None, ge=0, le=MAX_INDEX)
    z: list[float] | None = Field(None, description="An explicit latent vector (length nz, |values| <= 10).")

    @model_validator(mode="after")
    def _one_way(self) -> LatentRef:
        by_seed = self.seed is not None and self.index is not None
        if by_seed == (self.z is not None):
            raise ValueError("give a latent as seed and index, or as z, not both")
        if self.z is not None and not all(math.isfinite(v) and abs(v) <= MAX_ABS_LATENT for v in self.z):
            raise ValueError(
                f"every value of z must be a finite number between -{MAX_ABS_LATENT:g} and {MAX_ABS_LATENT:g}"
            )
        return self

    @property
    def key(self) -> str | None:
        """ "seed.index", the form used in page URLs; None for explicit vectors."""
        return None if self.z is not None else f"{self.seed}.{self.index}"


class GeneratorInfo(BaseModel):
    name: str
    title: str
    dataset: str
    image_shape: tuple[int, int, int]
    nz: int
    labels: list[str] = Field(description="Digit classes, or face attributes.")
    multilabel: bool = Field(description="True when several labels can hold at once (face attributes).")
    conditional: bool = Field(False, description="True when it draws the class it is asked for (/digits, /class-path).")
    labelled_by: str
    metrics: dict[str, Any]
    available: bool
    reason: str | None = None
    licence: str | None = None


class Sample(BaseModel):
    latent: LatentRef | None = Field(None, description="Where it came from, when it is a (seed, index) sample.")
    image: ImageInfo
    real: float = Field(description="The discriminator's probability that the image is a real one.")
    label: str = Field(description="The top class (digits), or the attributes with probability > 0.5 (faces).")
    prob: float = Field(description="The top class's probability (digits), or the least certain listed attribute's.")
    probs: dict[str, float] = Field(description="Every class or attribute with its probability.")


class SampleImage(BaseModel):
    latent: LatentRef | None = Field(None, description="Where it came from, when it is a (seed, index) sample.")
    image: ImageInfo


class ImagesResponse(BaseModel):
    """The pictures of a grid, without D's verdict or labels: the quickest answer (POST .../samples
    with the same body adds them, reusing these images)."""

    generator: str
    samples: list[SampleImage]


class SamplesRequest(RequestBody):
    seed: int = SEED
    start: int = Field(0, ge=0, le=MAX_INDEX - MAX_SAMPLES, description="First index of the grid.")
    count: int = Field(16, ge=1, le=MAX_SAMPLES)
    latents: list[LatentRef] | None = Field(
        None, max_length=MAX_SAMPLES, description="Decode these instead of a (seed, start..) grid."
    )


class SamplesResponse(BaseModel):
    generator: str
    samples: list[Sample]


Group = Field(min_length=1, max_length=MAX_GROUP)


class ArithmeticRequest(RequestBody):
    a: list[LatentRef] = Group
    b: list[LatentRef] = Group
    c: list[LatentRef] = Group
    noise: float = Field(
        0.5,
        ge=0,
        le=2,
        description="Std of the noise added around the result for the 3x3 neighbourhood (latents are N(0, 1): "
        "0.5 shows variety and mostly keeps the concept).",
    )
    seed: int = SEED


class ArithmeticResponse(BaseModel):
    generator: str
    expression: str
    a: Sample = Field(description="mean(A) decoded.")
    b: Sample
    c: Sample
    result: Sample = Field(description="mean(A) - mean(B) + mean(C) decoded.")
    neighbourhood: list[Sample] = Field(description="3x3: the result in the middle, small noise around it.")


class InterpolateRequest(RequestBody):
    start: LatentRef
    end: LatentRef
    steps: int = Field(10, ge=2, le=MAX_STEPS)


class InterpolateResponse(BaseModel):
    generator: str
    lerp: list[Sample]
    slerp: list[Sample]
    lerp_norms: list[float] = Field(description="|z| along the straight line: it sags in the middle.")
    slerp_norms: list[float]
    typical_norm: float = Field(description="sqrt(nz): where Gaussian latents concentrate.")


class DigitsRequest(RequestBody):
    latents: list[LatentRef] = Field(min_length=1, max_length=MAX_GROUP, description="Each one becomes a row.")
    classes: list[int] | None = Field(
        None, min_length=1, max_length=MAX_CLASSES, description="The digits to draw (0-9); every class when left out."
    )


class DigitRow(BaseModel):
    latent: LatentRef
    samples: list[Sample] = Field(description="The latent drawn as each requested class, in order.")


class DigitsResponse(BaseModel):
    generator: str
    classes: list[int]
    rows: list[DigitRow]
    requested_share: float = Field(description="The share of the images the judge takes for the digit asked for.")


class ClassPathRequest(RequestBody):
    latent: LatentRef
    start: int = Field(ge=0, le=MAX_CLASSES - 1, description="The digit at the start.")
    end: int = Field(ge=0, le=MAX_CLASSES - 1, description="The digit at the end.")
    steps: int = Field(10, ge=2, le=MAX_STEPS)


class ClassPathResponse(BaseModel):
    generator: str
    frames: list[Sample] = Field(description="One latent along the line between two digits' label embeddings.")


class ConceptInfo(BaseModel):
    name: str
    members: int = Field(description="Pool samples that show it.")
    direction_norm: float


class ConceptsResponse(BaseModel):
    generator: str
    pool: str
    concepts: list[ConceptInfo]


class ConceptRequest(RequestBody):
    latent: LatentRef
    concept: str = Field(examples=["Eyeglasses", "7"])
    strengths: list[float] = Field([0, 0.5, 1, 1.5, 2], min_length=1, max_length=MAX_STRENGTHS)

    @field_validator("strengths")
    @classmethod
    def _bounded(cls, values: list[float]) -> list[float]:
        if not all(math.isfinite(v) and abs(v) <= 5 for v in values):
            raise ValueError("every strength must be between -5 and 5")
        return values


class ConceptResponse(BaseModel):
    generator: str
    concept: str
    strengths: list[float]
    strip: list[Sample]


class ExemplarRequest(RequestBody):
    want: list[str] = Field(default_factory=list, max_length=10, examples=[["Male", "Eyeglasses"]])
    avoid: list[str] = Field(default_factory=list, max_length=10, examples=[[]])
    count: int = Field(3, ge=1, le=MAX_GROUP)


class ExemplarResponse(BaseModel):
    generator: str
    want: list[str]
    avoid: list[str]
    exemplars: list[Sample]


# --- the live training lab ----------------------------------------------------------------------


class LabPoint(BaseModel):
    step: int
    d_loss: float
    g_loss: float
    d_real: float = Field(description="Mean D(x) on real data.")
    d_fake: float = Field(description="Mean D(G(z)) before the generator's update.")
    g_grad_norm: float = Field(description="Norm of the generator's parameter gradient.")


class LabControl(RequestBody):
    action: str = Field(description="play, pause, step or reset.", examples=["play"])
    steps: int = Field(1, ge=1, le=500, description="For step: how many generator steps.")


class LabState(BaseModel):
    id: str
    config: dict[str, Any]
    steps: int
    max_steps: int
    playing: bool
    history: list[LabPoint] = Field(description="Recent steps, thinned to at most a few hundred points.")
    samples: ImageInfo | None = Field(None, description="MNIST: a 4x4 grid of samples from fixed latents.")
    real_points: list[tuple[float, float]] | None = Field(None, description="2D: real points.")
    fake_points: list[tuple[float, float]] | None = Field(None, description="2D: generated points (fixed latents).")
    decision_map: ImageInfo | None = Field(None, description="2D: D(x) over the view, blue 0 to orange 1.")
    extent: float | None = Field(None, description="2D: the view is [-extent, extent]².")


class LabRun(BaseModel):
    """One cost's run in a comparison, and the figures that tell the two apart."""

    cost: str
    state: LabState = Field(description="The session after its steps (its history, samples and D's map).")
    start_points: list[tuple[float, float]] | None = Field(None, description="2D: the generated points at step 0.")
    grad_median: float = Field(description="Median ‖∇G‖ over the second half of the steps.")
    d_fake: float = Field(description="Mean D(G(z)) over the second half of the steps.")
    distance_start: float | None = Field(
        None, description="2D: mean distance from a generated point to the nearest real one, at step 0."
    )
    distance_end: float | None = Field(None, description="2D: the same after the steps.")


class LabComparison(BaseModel):
    config: dict[str, Any] = Field(description="The settings both runs share (their cost aside).")
    steps: int
    runs: list[LabRun] = Field(description="Saturating, then non-saturating.")
