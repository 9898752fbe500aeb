"""What the CycleGAN routes call: list the translators, pick faces to translate, and take one face
there and back again (x -> G(x) -> F(G(x))), each step read by the faces' attribute classifier."""

from __future__ import annotations

import torch
from PIL import Image
from starlette.concurrency import run_in_threadpool
from torch import nn

from app.errors import BadRequest, InvalidField, ModelUnavailable
from app.gan.latent import latent
from app.gan.translators import RoundTrip, TranslatorEntry, Translators, round_trip
from app.gan.zoo import GanEntry, Generators
from app.media import imaging
from app.runtime.executor import Executor
from app.schemas.cycle import TranslatedPicture, TranslateRequest, TranslateResponse, TranslatorInfo
from app.schemas.gan import Sample, SamplesRequest
from app.services import ResultCache
from app.services.gan import GanService
from app.services.images import ImageService

STEPS = ("x", "G(x)", "F(G(x))")


def _info(e: TranslatorEntry) -> TranslatorInfo:
    return TranslatorInfo(
        name=e.spec.name,
        title=e.spec.title,
        dataset=e.spec.dataset,
        attribute=e.spec.attribute,
        domains=e.spec.domains,
        directions=e.spec.directions,
        side=e.cfg.side,
        judge=e.spec.judge,
        metrics=e.spec.metrics,
        licence=e.spec.licence,
        available=e.available,
        reason=e.reason,
    )


def face_square(im: Image.Image, side: int) -> torch.Tensor:
    """(1, 3, side, side) in [0, 1]: the largest centred square of the picture, resized."""
    return imaging.image_to_tensor(imaging.resize_center_crop(im, side, (side, side)))[None]


class TranslateService:
    """CycleGAN translation: the translators, a face (generated or uploaded) there and back, and
    the generated faces a page offers to pick from."""

    def __init__(
        self,
        translators: Translators,
        generators: Generators,
        gan: GanService,
        images: ImageService,
        executor: Executor,
        results: ResultCache,
    ) -> None:
        self.translators, self.generators, self.gan = translators, generators, gan
        self.images, self.executor, self.results = images, executor, results

    def list_translators(self) -> list[TranslatorInfo]:
        return [_info(e) for e in self.translators.entries.values()]

    async def translate(self, name: str, req: TranslateRequest) -> TranslateResponse:
        """A pure function of the request: a face a room asks for again is translated once (the result cache)."""
        entry = self.translators.get(name)
        if req.direction not in entry.spec.directions:
            choices = " or ".join(f'"{d}"' for d in entry.spec.directions)
            raise InvalidField("direction", f"{name} translates {choices}, not {req.direction[:40]!r}.")
        judge, names = self._judge(entry)

        async def compute() -> TranslateResponse:
            x = await self._picture(entry, req)
            trip = await self.executor.run(round_trip, entry, judge, x, req.direction)
            return await self._response(entry, req, trip, names)

        kept = lambda r: self.images.kept(*(p.image for p in r.pictures))
        return await self.results.get(("cyclegan", name, req.model_dump_json()), compute, kept)

    async def faces(self, generator: str, seed: int, count: int) -> list[Sample]:
        """Generated faces to pick from: (seed, 0..count-1) of a face GAN, with its attribute readings."""
        self._face_generator(generator)
        return (await self.gan.samples(generator, SamplesRequest(seed=seed, start=0, count=count))).samples

    def _judge(self, entry: TranslatorEntry) -> tuple[nn.Module, list[str]]:
        """The attribute classifier named by the translator (a face GAN's) and its attribute names."""
        judge = entry.spec.judge
        if judge is None or judge not in self.generators.entries:
            raise ModelUnavailable(f"{entry.spec.name} is read by {judge}, which is not on this server.")
        gan = self.generators.get(judge)
        if gan.attributes is None or gan.spec.attributes is None:
            raise ModelUnavailable(f"{judge} has no attribute classifier to read {entry.spec.name}'s faces.")
        return gan.attributes, gan.spec.attributes.names

    def _face_generator(self, name: str) -> GanEntry:
        gan = self.generators.get(name)
        if gan.attributes is None:
            faces = ", ".join(n for n, e in self.generators.entries.items() if e.spec.attributes is not None)
            raise InvalidField(
                "generator", f"{name} does not draw faces; the faces come from {faces or 'no GAN here'}."
            )
        return gan

    async def _picture(self, entry: TranslatorEntry, req: TranslateRequest) -> torch.Tensor:
        """(1, 3, side, side): the generated face, or the image centre-cropped and resized."""
        side = entry.cfg.side
        if req.generator is not None:
            gan = self._face_generator(req.generator)
            z = latent(req.seed, req.index, gan.loaded_generator.cfg.nz)[None]
            x = await self.executor.run(_draw, gan, z)
            if tuple(x.shape[1:]) != (entry.cfg.channels, side, side):
                raise BadRequest(f"{req.generator} draws {x.shape[-1]}-pixel faces; {entry.spec.name} takes {side}.")
            return x
        assert req.image is not None  # the request names exactly one source
        im = await run_in_threadpool(self.images.load_image, req.image)
        return await run_in_threadpool(face_square, im, side)

    async def _response(
        self, entry: TranslatorEntry, req: TranslateRequest, trip: RoundTrip, names: list[str]
    ) -> TranslateResponse:
        column = names.index(entry.spec.attribute)
        a_to_b = req.direction == entry.spec.directions[0]
        source, target = entry.spec.domains if a_to_b else entry.spec.domains[::-1]
        pictures = []
        for step, picture, probs in zip(STEPS, trip.pictures, trip.probs):
            pictures.append(
                TranslatedPicture(
                    step=step,
                    image=await run_in_threadpool(self.images.store_tensor, picture),
                    attribute_prob=round(float(probs[column]), 4),
                    attributes={n: round(float(p), 4) for n, p in zip(names, probs)},
                )
            )
        drawn = req.generator is not None
        return TranslateResponse(
            translator=entry.spec.name,
            direction=req.direction,
            source_domain=source,
            target_domain=target,
            attribute=entry.spec.attribute,
            judge=f"{entry.spec.judge} attribute classifier",
            image=req.image,
            generator=req.generator,
            seed=req.seed if drawn else None,
            index=req.index if drawn else None,
            pictures=pictures,
            cycle_l1=round(trip.cycle_l1, 4),
            change_l1=round(trip.change_l1, 4),
        )


@torch.inference_mode()
def _draw(gan: GanEntry, z: torch.Tensor) -> torch.Tensor:
    """A face GAN's picture of latent z (1, nz): (1, 3, H, W) in [0, 1] on the CPU."""
    generator = gan.loaded_generator
    return generator(z.to(next(generator.parameters()).device)).cpu()
