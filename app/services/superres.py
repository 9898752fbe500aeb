"""What the super-resolution routes call: list the upscalers, and upscale one picture every way."""

from __future__ import annotations

import torch
from PIL import Image
from starlette.concurrency import run_in_threadpool
from torch import nn

from app.errors import BadRequest, ModelUnavailable
from app.gan import latent
from app.gan.superres import psnr, sharpness
from app.gan.upscalers import METHODS, UpscalerEntry, Upscalers, upscale_all
from app.gan.zoo import Generators
from app.media import imaging
from app.runtime.executor import Executor
from app.schemas import ImageInfo, Prediction, top_predictions
from app.schemas.superres import DrawnImage, UpscaledImage, UpscaleRequest, UpscaleResponse, UpscalerInfo
from app.services.images import ImageService
from app.zoo import Zoo
from app.zoo.inference import predict

# The faces the page offers for a face upscaler: drawn by its judge's GAN (no CelebA photo is
# shipped), latents (seed 0, index i) picked to show glasses, smiles, hair and both sexes.
DRAWN_SEED, DRAWN_INDICES = 0, (16, 0, 2, 6, 9, 26, 37, 44)


def _info(e: UpscalerEntry) -> UpscalerInfo:
    return UpscalerInfo(
        name=e.spec.name,
        title=e.spec.title,
        dataset=e.spec.dataset,
        low=e.cfg.low,
        high=e.cfg.high,
        judge=e.spec.judge,
        attribute_judge=e.spec.attribute_judge,
        metrics=e.spec.metrics,
        available=e.available,
        reason=e.reason,
        licence=e.spec.licence,
    )


def square_crop(im: Image.Image, side: int) -> Image.Image:
    """The picture's centre square, resized to side x side; a smaller picture is refused (a 422)."""
    if min(im.size) < side:
        raise BadRequest(
            f"This upscaler compares against a {side}×{side} original, so it needs a picture at least "
            f"{side} pixels on each side; this one is {im.width}×{im.height}."
        )
    return imaging.resize_center_crop(im, side, (side, side))


@torch.inference_mode()
def draw(generator: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """(N, nz) latents -> (N, C, H, W) pictures in [0, 1] on the CPU."""
    return generator(z.to(next(generator.parameters()).device)).float().cpu()


@torch.inference_mode()
def attribute_probs(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(N, 3, 64, 64) faces -> (N, A) probability of each attribute (each on its own: multi-label)."""
    device = next(net.parameters()).device
    return torch.sigmoid(net(x.to(device))).cpu()


class UpscaleService:
    """GAN super-resolution: the upscalers, and one picture upscaled every way and read by a classifier
    (a digit classifier of the zoo, or a face GAN's attribute classifier)."""

    def __init__(
        self, upscalers: Upscalers, zoo: Zoo, generators: Generators, images: ImageService, executor: Executor
    ) -> None:
        self.upscalers, self.zoo, self.generators = upscalers, zoo, generators
        self.images, self.executor = images, executor
        self._drawn: dict[str, list[ImageInfo]] = {}

    def list_upscalers(self) -> list[UpscalerInfo]:
        return [_info(e) for e in self.upscalers.entries.values()]

    async def drawn(self, name: str) -> list[DrawnImage]:
        """Pictures to try a face upscaler on, drawn by the GAN whose attribute classifier judges it
        (none for other upscalers). Stored content-addressed, so each keeps its id (and permalink);
        drawn again if the store has let them go."""
        entry = self.upscalers.get(name)
        if not entry.spec.attribute_judge:
            return []
        gan = self.generators.get(entry.spec.attribute_judge)
        kept = self._drawn.get(gan.spec.name)
        if kept is None or not self.images.kept(*kept):
            z = latent.latents(DRAWN_SEED, DRAWN_INDICES, gan.spec.config["nz"])
            pictures = await self.executor.run(draw, gan.loaded_generator, z)
            kept = [await run_in_threadpool(self.images.store_tensor, x) for x in pictures]
            self._drawn[gan.spec.name] = kept
        return [
            DrawnImage(ref=info.id, url=info.url, title=f"Face {DRAWN_SEED}.{i} by {gan.spec.name}")
            for i, info in zip(DRAWN_INDICES, kept)
        ]

    async def upscale(self, name: str, req: UpscaleRequest) -> UpscaleResponse:
        """The picture at the upscaler's output size (a digit as the judge sees it, 28x28; a photo's
        centre square, 64x64), downscaled, then upscaled each way, each with its PSNR against the
        original, its sharpness and what the judge reads in it."""
        entry = self.upscalers.get(name)
        if entry.spec.attribute_judge:
            return await self._faces(entry, req)
        if entry.spec.judge is None:
            raise BadRequest(f"{name} names no classifier to read its pictures.")
        judge_entry, judge = self.zoo.model(entry.spec.judge)
        high = await run_in_threadpool(self.images.model_input, req.image, judge_entry)
        if tuple(high.shape[1:]) != (entry.cfg.channels, entry.cfg.high, entry.cfg.high):
            low, high_side = entry.cfg.low, entry.cfg.high
            raise BadRequest(f"{name} upscales {low}x{low} pictures to {high_side}x{high_side}, for digit models.")
        out = await self.executor.run(upscale_all, entry, high)
        readable = {m: out["blocks" if m == "low" else m] for m in METHODS}  # the judge reads the low one as blocks
        probs = await self.executor.run(predict, judge, torch.cat(list(readable.values())), self.zoo.device)
        k = min(req.top_k, len(judge_entry.classes))
        readings = []
        for p in probs:
            top = torch.topk(p, k)
            readings.append(top_predictions(top.values.tolist(), top.indices.tolist(), judge_entry.classes))
        results = [await self._result(m, out, readable, r) for m, r in zip(METHODS, readings)]
        return UpscaleResponse(upscaler=name, image=req.image, judge=entry.spec.judge, results=results)

    async def _faces(self, entry: UpscalerEntry, req: UpscaleRequest) -> UpscaleResponse:
        """A face (or any photo): its centre square at 64x64 is the original; the attribute
        classifier of the face GAN reads every version."""
        assert entry.spec.attribute_judge is not None
        gan = self.generators.get(entry.spec.attribute_judge)
        if gan.attributes is None or gan.spec.attributes is None:
            raise ModelUnavailable(f"{gan.spec.name} has no attribute classifier to read {entry.spec.name}'s faces.")
        names = gan.spec.attributes.names
        im = await run_in_threadpool(self.images.load_image, req.image)
        face = await run_in_threadpool(square_crop, im, entry.cfg.high)
        out = await self.executor.run(upscale_all, entry, imaging.image_to_tensor(face)[None])
        readable = {m: out["blocks" if m == "low" else m] for m in METHODS}
        probs = await self.executor.run(attribute_probs, gan.attributes, torch.cat(list(readable.values())))
        results = []
        for method, p in zip(METHODS, probs):
            top = torch.topk(p, min(req.top_k, len(names)))
            reading = top_predictions(top.values.tolist(), top.indices.tolist(), names)
            attributes = {a: round(float(v), 4) for a, v in zip(names, p)}
            results.append(await self._result(method, out, readable, reading, attributes))
        return UpscaleResponse(upscaler=entry.spec.name, image=req.image, judge=gan.spec.name, results=results)

    async def _result(
        self,
        method: str,
        out: dict[str, torch.Tensor],
        readable: dict[str, torch.Tensor],
        predictions: list[Prediction],
        attributes: dict[str, float] | None = None,
    ) -> UpscaledImage:
        shown = readable[method]
        return UpscaledImage(
            method=method,
            image=await run_in_threadpool(self.images.store_tensor, out[method][0]),
            psnr=None if method == "original" else round(float(psnr(shown, out["original"])[0]), 2),
            sharpness=round(float(sharpness(shown)[0]), 4),
            predictions=predictions,
            attributes=attributes,
        )
