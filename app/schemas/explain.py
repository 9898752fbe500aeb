"""Request and response bodies of the gradient view and the linear toy (the API and the pages)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.explain import linear
from app.schemas import IMAGE_REF, ImageInfo, RequestBody

MAX_K = 64
MAX_ENTRIES = 64
MAX_ABS = 1000.0

# --- gradient view -----------------------------------------------------------------------------


class GradientRequest(RequestBody):
    model: str = Field(examples=["mnist-cnn"])
    image: str = Field(description=IMAGE_REF, examples=["sample:mnist-00003"])
    target_class: int | None = Field(
        None,
        ge=0,
        description=(
            "The class whose cross-entropy loss is differentiated. Default: the true label of a gallery "
            "sample from the model's dataset, else the model's top class."
        ),
    )
    k: int = Field(8, ge=1, le=MAX_K, description="How many random pixels to check by finite differences.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Picks the checked pixels; same seed, same pixels.")


class GradientMap(BaseModel):
    image: ImageInfo
    scale: str = Field(description="How pixel values map to gradient values.")
    max_abs: float = Field(description="The largest |dL/dx| over the image.")
    full_scale: float | None = Field(None, description="The |dL/dx| shown in full colour (heatmap only).")


class GradientCheckRow(BaseModel):
    pixel: tuple[int, int, int] = Field(description="[channel, y, x] in the model's input.")
    backprop: float = Field(description="dL/dx at this pixel from backprop (float64 copy of the model).")
    finite_difference: float = Field(description="(L(x+h) - L(x-h)) / 2h, float64.")
    relative_error: float = Field(description="|backprop - finite_difference| / max(|backprop|, |finite_difference|).")
    left_slope: float = Field(description="(L(x) - L(x-h)) / h")
    right_slope: float = Field(description="(L(x+h) - L(x)) / h")
    kink: bool = Field(description="The loss has a corner here (left and right slopes differ): no derivative exists.")


class GradientResponse(BaseModel):
    model: str
    image: str
    target_class: int
    target_label: str
    class_source: Literal["requested", "true label", "top class"]
    true_label: int | None
    predicted_class: int
    predicted_label: str
    target_prob: float = Field(description="The model's probability for target_class.")
    loss: float = Field(description="Cross-entropy -log p(target_class).")
    model_input: ImageInfo = Field(description="The picture the model saw, after preprocessing.")
    heatmap: GradientMap
    sign_map: GradientMap
    float32_relative_difference: float = Field(
        description=(
            "||g32 - g64|| / ||g64||: how far the served float32 model's gradient (the maps) is from float64's."
        )
    )
    h: float = Field(description="The finite-difference step, in pixel units (pixels span [0, 1]).")
    k: int
    seed: int
    checks: list[GradientCheckRow]
    kinks: int = Field(description="How many checked pixels sit on a corner of the loss.")
    max_relative_error: float | None = Field(
        description=(
            "The largest relative error over the checked pixels where the loss is smooth (None if all are kinks)."
        )
    )


# --- linear toy --------------------------------------------------------------------------------

Entry = Annotated[float, Field(ge=-MAX_ABS, le=MAX_ABS)]
Vector = Annotated[list[Entry], Field(min_length=1, max_length=MAX_ENTRIES)]


class LinearToyRequest(RequestBody):
    model_config = ConfigDict(allow_inf_nan=False)

    w: Vector = Field(list(linear.SEED_W), description="Weights, 1 to 64 numbers in [-1000, 1000].")
    x: Vector = Field(list(linear.SEED_X), description="The input, as many numbers as w.")
    b: float = Field(linear.SEED_B, ge=-MAX_ABS, le=MAX_ABS)
    eps: float = Field(linear.SEED_EPS, ge=0, le=1, description="Step size epsilon, 0 to 1.")

    @model_validator(mode="after")
    def same_length(self) -> LinearToyRequest:
        if len(self.w) != len(self.x):
            raise ValueError(f"w and x must have the same number of entries (w has {len(self.w)}, x has {len(self.x)})")
        return self


class LinearOutput(BaseModel):
    z: float = Field(description="w.x + b")
    y_hat: float = Field(description="sigmoid(z)")


class LinearStep(LinearOutput):
    x: list[float] = Field(description="The moved input.")
    change: float = Field(description="How much z moved.")
    max_input_change: float = Field(description="The largest change of any single input.")


class DimensionPoint(BaseModel):
    n: int = Field(description="Number of inputs.")
    aligned: float = Field(description="eps*||w||_1: how far the sign step moves w.x.")
    random_rms: float = Field(description="eps*||w||_2: root-mean-square move of a random-sign step.")


class DimensionMarker(DimensionPoint):
    name: str


class LinearToyResponse(BaseModel):
    w: list[float]
    x: list[float]
    b: float
    eps: float
    before: LinearOutput
    along_w: LinearStep = Field(description="x + eps*w (the lecture notes' step).")
    along_sign: LinearStep = Field(description="x + eps*sign(w) (the fast gradient sign step).")
    w_l1: float
    w_l2: float
    series: list[DimensionPoint] = Field(description="For n inputs whose weights repeat w.")
    markers: list[DimensionMarker]
