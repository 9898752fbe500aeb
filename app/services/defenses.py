"""What the defense routes call: one input judged by every defense side by side, and an input
transform applied to any image for any model."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.defenses import detector as det
from app.defenses.evaluation import adversarial_examples
from app.defenses.transforms import TRANSFORMS
from app.errors import BadRequest
from app.runtime.executor import Executor
from app.schemas import IMAGE_REF, ImageInfo, Prediction, RequestBody
from app.services.attacks import top_k
from app.services.images import ImageService, image_url
from app.zoo import Zoo
from app.zoo.inference import predict

GUARDED, ROBUST, DETECTOR = "mnist-cnn", "mnist-cnn-robust", "mnist-detector"
Craft = Literal["none", "fgsm", "pgd", "adaptive"]


class TransformRequest(RequestBody):
    model: str = Field(examples=["mnist-cnn"])
    image: str = Field(description=IMAGE_REF, examples=["sample:mnist-00003"])
    transform: Literal["jpeg", "bits", "median"]
    value: int | None = Field(
        None, description="JPEG quality (1-100), bits (1-8) or median size (3, 5, 7); default per transform."
    )


class TransformResponse(BaseModel):
    model: str
    transform: str
    value: int
    original: list[Prediction]
    transformed_image: ImageInfo
    transformed: list[Prediction]


class VerdictRequest(RequestBody):
    image: str = Field(description=IMAGE_REF, examples=["sample:mnist-00003"])
    craft: Craft = Field(
        "none",
        description="First make the image adversarial against mnist-cnn: FGSM, PGD-40, "
        "or PGD-100 against mnist-cnn and the detector together (adaptive).",
    )
    eps: float = Field(0.2, ge=0, le=0.5, description="L∞ budget of the crafted perturbation.")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    quality: int = Field(75, ge=1, le=100, description="JPEG quality.")
    bits: int = Field(3, ge=1, le=8, description="Bits per value kept by bit-depth reduction.")
    size: int = Field(3, ge=3, le=7, description="Median filter size (odd).")


class Verdict(BaseModel):
    judge: str = Field(description="Who looked: a model, the detector, or a transform then mnist-cnn.")
    kind: Literal["classifier", "detector", "transform"]
    image: ImageInfo | None = Field(None, description="What a transform made of the input.")
    predictions: list[Prediction]
    fooled: bool | None = Field(None, description="Classifiers: the answer differs from the label (when known).")
    flagged: bool | None = Field(None, description="Detector: it calls the input adversarial.")


class VerdictResponse(BaseModel):
    image: str
    craft: str
    eps: float
    label: int | None = Field(
        description="The true class when the image is a gallery digit, else mnist-cnn's answer on it."
    )
    input: ImageInfo = Field(description="The input judged (after crafting, when asked).")
    verdicts: list[Verdict]


def _apply(name: str, x: torch.Tensor, value: int | None) -> tuple[torch.Tensor, int]:
    t = TRANSFORMS[name]
    v = t.default if value is None else value
    if not t.low <= v <= t.high:
        raise BadRequest(f"{t.title} takes {t.param} from {t.low} to {t.high}.")
    return t.apply(x, v), v


@torch.no_grad()
def _judge_all(classifiers, detector, guarded, batch: torch.Tensor, device) -> dict[str, torch.Tensor]:
    """batch: the input, then each transformed input. Softmax outputs on the CPU."""
    batch = batch.to(device)
    x = batch[:1]
    return {
        "classifiers": [torch.softmax(m(x), 1)[0].cpu() for m in classifiers],
        "detector": torch.softmax(detector(x), 1)[0].cpu(),
        "transforms": torch.softmax(guarded(batch[1:]), 1).cpu(),
    }


class DefenseService:
    """mnist-cnn's defenses judging one input, and input transforms for any model."""

    def __init__(self, zoo: Zoo, images: ImageService, executor: Executor, settings: Settings) -> None:
        self.zoo, self.images, self.executor, self.settings = zoo, images, executor, settings

    async def transform(self, req: TransformRequest) -> TransformResponse:
        entry, model = self.zoo.model(req.model)
        x = await self.images.model_input_async(req.image, entry)
        changed, value = await run_in_threadpool(_apply, req.transform, x, req.value)
        probs = await self.executor.run(predict, model, torch.cat([x, changed]), self.zoo.device)
        k = min(self.settings.top_k, len(entry.classes))
        return TransformResponse(
            model=req.model,
            transform=req.transform,
            value=value,
            original=top_k(probs[0], entry.classes, k),
            transformed_image=await run_in_threadpool(self.images.store_tensor, changed[0]),
            transformed=top_k(probs[1], entry.classes, k),
        )

    async def verdicts(self, req: VerdictRequest) -> VerdictResponse:
        guarded_entry, guarded = self.zoo.model(GUARDED)
        x = await self.images.model_input_async(req.image, guarded_entry)
        truth = self.images.true_label(req.image, "mnist")
        label = (
            truth
            if truth is not None
            else int((await self.executor.run(predict, guarded, x, self.zoo.device)).argmax())
        )
        if req.craft != "none":
            x = await self.executor.run(self._craft, x, label, req)
        judged = [(GUARDED, guarded), (ROBUST, self.zoo.model(ROBUST)[1])]
        squeezed = [
            (name, *_apply(name, x, getattr(req, TRANSFORMS[name].param if name != "jpeg" else "quality")))
            for name in TRANSFORMS
        ]
        batch = torch.cat([x] + [s[1] for s in squeezed])
        probs = await self.executor.run(
            _judge_all, [m for _, m in judged], self.zoo.model(DETECTOR)[1], guarded, batch, self.zoo.device
        )
        return await run_in_threadpool(self._describe, req, label, x, judged, squeezed, probs)

    def _craft(self, x: torch.Tensor, label: int, req: VerdictRequest) -> torch.Tensor:
        """On the executor: the adversarial version of x asked for."""
        y = torch.tensor([label])
        guarded = self.zoo.model(GUARDED)[1]
        if req.craft == "adaptive":
            gen = torch.Generator().manual_seed(req.seed)
            return det.adaptive_attack(
                guarded,
                self.zoo.model(DETECTOR)[1],
                x.to(self.zoo.device),
                y.to(self.zoo.device),
                eps=req.eps,
                generator=gen,
            ).cpu()
        params = {"eps": req.eps} if req.craft == "fgsm" else {"eps": req.eps, "alpha": 0.01, "steps": 40}
        return adversarial_examples(guarded, x, y, req.craft, params, seed=req.seed, device=self.zoo.device)

    def _describe(self, req: VerdictRequest, label: int, x, judged, squeezed, probs) -> VerdictResponse:
        classes = self.zoo.entry(GUARDED).classes
        out = []
        for (name, _), p in zip(judged, probs["classifiers"]):
            out.append(
                Verdict(
                    judge=name, kind="classifier", predictions=top_k(p, classes, 3), fooled=int(p.argmax()) != label
                )
            )
        d = probs["detector"]
        out.append(
            Verdict(
                judge=DETECTOR,
                kind="detector",
                predictions=top_k(d, det.CLASSES, 2),
                flagged=int(d.argmax()) == det.ADVERSARIAL,
            )
        )
        for (name, changed, value), p in zip(squeezed, probs["transforms"]):
            t = TRANSFORMS[name]
            out.append(
                Verdict(
                    judge=f"{t.title} ({t.param} {value}) → {GUARDED}",
                    kind="transform",
                    image=self.images.store_tensor(changed[0]),
                    predictions=top_k(p, classes, 3),
                    fooled=int(p.argmax()) != label,
                )
            )
        return VerdictResponse(
            image=req.image,
            craft=req.craft,
            eps=req.eps,
            label=label,
            input=self.images.store_tensor(x[0]),
            verdicts=out,
        )

    async def transform_rows(self, model: str, image: str, label: int, target: int | None) -> list[dict]:
        """The picture as it is and after each transform: what the model reads, and whether the attack
        still holds (the target still wins, or, untargeted, the label still loses)."""
        checks = [
            await self.transform(TransformRequest(model=model, image=image, transform=name)) for name in TRANSFORMS
        ]

        def row(title: str, url: str, predictions: list[Prediction]) -> dict:
            top = predictions[0].index
            return {
                "title": title,
                "image_url": url,
                "predictions": predictions,
                "fooled": top == target if target is not None else top != label,
            }

        rows = [row("as it is", image_url(image), checks[0].original)]
        for name, c in zip(TRANSFORMS, checks):
            t = TRANSFORMS[name]
            rows.append(row(f"{t.title} ({t.param} {c.value})", c.transformed_image.url, c.transformed))
        return rows
