"""Request and response bodies of the attack API (also what the attack-lab page renders)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.schemas import IMAGE_REF, ImageInfo, Prediction, RequestBody

MAX_TOP_K = 20  # the most predictions a result lists (before, after, after saving)


class AttackInfo(BaseModel):
    name: str
    title: str
    norm: str = Field(description="linf, l2 or l0: the distance the attack keeps small.")
    untargeted: bool = Field(description="Runs without a target class.")
    targeted: bool = Field(description="Runs toward a chosen target class.")
    starts_from_noise: bool
    max_features: int | None = Field(None, description="Largest input (C·H·W) it accepts, if limited.")
    paper: str
    description: str
    params_schema: dict[str, Any]


class AttackRequest(RequestBody):
    model: str = Field(examples=["mnist-cnn"])
    image: str = Field(description=IMAGE_REF, examples=["sample:mnist-00003"])
    target: int | str | None = Field(
        None, description="Target class (index or label); null: untargeted.", examples=[None, 3, "tabby"]
    )
    params: dict[str, Any] = Field(default_factory=dict, description="The attack's Params (see GET /api/v1/attacks).")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seeds random starts and noise: same seed, same result.")
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K)


class Norms(BaseModel):
    l0: int = Field(description="How many input values changed.")
    l2: float
    linf: float
    psnr: float | None = Field(description="Peak signal-to-noise ratio in dB; null when nothing changed.")


class Step(BaseModel):
    step: int
    true_prob: float
    target_prob: float | None
    top_class: int
    loss: float | None
    linf: float
    l2: float


class Snapshot(BaseModel):
    step: int
    image: ImageInfo


class SavedCheck(BaseModel):
    """The adversarial image as an 8-bit PNG (what a download keeps), classified again."""

    success: bool
    predictions: list[Prediction]
    changed_values: int = Field(description="Input values that rounding to 8 bits changed.")


class AttackResponse(BaseModel):
    attack: str
    model: str
    image: str
    seed: int
    params: dict[str, Any] = Field(description="Every parameter, defaults filled in.")
    target: int | None
    target_label: str | None
    label: int = Field(
        description="The class the attack moves away from: the true label when known, "
        "else the model's prediction on the clean image."
    )
    label_name: str
    original: ImageInfo = Field(description="The model's input before the attack (after preprocessing).")
    perturbation: ImageInfo = Field(description="adversarial − original, amplified: mid-gray is no change.")
    perturbation_scale: float = Field(description="Shown = 0.5 + scale × (adversarial − original).")
    adversarial: ImageInfo
    before: list[Prediction]
    after: list[Prediction]
    success: bool
    norms: Norms
    steps: int
    seconds: float
    trajectory: list[Step]
    snapshots: list[Snapshot]
    survives_saving: SavedCheck


MAX_SWEEP_EPS = 101  # the most values of ε one sweep scores (each is two forwards of the model)


class SweepRequest(RequestBody):
    model: str = Field(examples=["mnist-cnn"])
    image: str = Field(description=IMAGE_REF, examples=["sample:mnist-00003"])
    target: int | str | None = Field(
        None, description="Target class (index or label); null: untargeted.", examples=[None, 3, "tabby"]
    )
    eps: list[float] | None = Field(
        None,
        min_length=1,
        max_length=MAX_SWEEP_EPS,
        description=f"The values of ε (0–1), at most {MAX_SWEEP_EPS}. Default: the page slider's positions, "
        "0 to 0.5 in steps of 0.01 for 28×28 images, 0 to 16/255 in steps of 0.5/255 for ImageNet.",
    )
    seed: int = Field(
        0, ge=0, le=2**31 - 1, description="Accepted for symmetry with the attacks; FGSM uses no randomness."
    )
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K)


class SweepStep(BaseModel):
    eps: float
    predictions: list[Prediction] = Field(
        description="Top-k on the adversarial image at this ε (as POST /fgsm's 'after')."
    )
    success: bool
    norms: Norms
    survives_saving: SavedCheck


class SweepResponse(BaseModel):
    model: str
    image: str
    seed: int
    target: int | None
    target_label: str | None
    label: int = Field(description="The class the attack moves away from (see AttackResponse.label).")
    label_name: str
    original: ImageInfo = Field(description="The model's input (after preprocessing), 8-bit: x = pixel / 255.")
    sign: ImageInfo = Field(
        description="The step's direction s as a PNG of the same size: 0 is −1, 128 is 0, "
        "255 is +1. The adversarial image at ε is clip(x + ε·s, 0, 1), computed "
        "in float32 and rounded half to even to 8 bits."
    )
    before: list[Prediction]
    steps: list[SweepStep]
    seconds: float = Field(description="Time of the model work (gradient and the batched forwards).")
