"""What the super-resolution routes call: list the upscalers, and upscale one picture every way."""

from __future__ import annotations

import torch
from starlette.concurrency import run_in_threadpool

from app.errors import BadRequest
from app.gan.superres import psnr, sharpness
from app.gan.upscalers import METHODS, UpscalerEntry, Upscalers, upscale_all
from app.runtime.executor import Executor
from app.schemas import top_predictions
from app.schemas.superres import UpscaledImage, UpscaleRequest, UpscaleResponse, UpscalerInfo
from app.services.images import ImageService
from app.zoo import Zoo
from app.zoo.inference import predict


def _info(e: UpscalerEntry) -> UpscalerInfo:
    return UpscalerInfo(
        name=e.spec.name,
        title=e.spec.title,
        dataset=e.spec.dataset,
        low=e.cfg.low,
        high=e.cfg.high,
        judge=e.spec.judge,
        metrics=e.spec.metrics,
        available=e.available,
        reason=e.reason,
    )


class UpscaleService:
    """GAN super-resolution: the upscalers, and one picture upscaled every way and read by a classifier."""

    def __init__(self, upscalers: Upscalers, zoo: Zoo, images: ImageService, executor: Executor) -> None:
        self.upscalers, self.zoo, self.images, self.executor = upscalers, zoo, images, executor

    def list_upscalers(self) -> list[UpscalerInfo]:
        return [_info(e) for e in self.upscalers.entries.values()]

    async def upscale(self, name: str, req: UpscaleRequest) -> UpscaleResponse:
        """The picture as the judge sees it (a digit, 28x28), downscaled, then upscaled each way, each
        with its PSNR against the original, its sharpness and what the judge reads in it."""
        entry = self.upscalers.get(name)
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
        results = []
        for i, method in enumerate(METHODS):
            top = torch.topk(probs[i], k)
            shown = readable[method]
            results.append(
                UpscaledImage(
                    method=method,
                    image=await run_in_threadpool(self.images.store_tensor, out[method][0]),
                    psnr=None if method == "original" else round(float(psnr(shown, out["original"])[0]), 2),
                    sharpness=round(float(sharpness(shown)[0]), 4),
                    predictions=top_predictions(top.values.tolist(), top.indices.tolist(), judge_entry.classes),
                )
            )
        return UpscaleResponse(upscaler=name, image=req.image, judge=entry.spec.judge, results=results)
