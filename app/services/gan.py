"""What the GAN routes call: samples, latent arithmetic, interpolation, concept vectors and
exemplars. Model work goes through the executor; images go to the image store."""

from __future__ import annotations

import math

import torch
from starlette.concurrency import run_in_threadpool

from app.errors import BadRequest
from app.gan import latent as lat
from app.gan import studio
from app.gan.zoo import GanEntry, Generators
from app.media import imaging
from app.runtime.executor import Executor
from app.schemas import ImageInfo
from app.schemas.gan import (
    ArithmeticRequest,
    ArithmeticResponse,
    ClassPathRequest,
    ClassPathResponse,
    ConceptInfo,
    ConceptRequest,
    ConceptResponse,
    ConceptsResponse,
    DigitRow,
    DigitsRequest,
    DigitsResponse,
    ExemplarRequest,
    ExemplarResponse,
    GeneratorInfo,
    ImagesResponse,
    InterpolateRequest,
    InterpolateResponse,
    LatentRef,
    Sample,
    SampleImage,
    SamplesRequest,
    SamplesResponse,
)
from app.services import InputCache, ResultCache
from app.services.images import ImageService
from app.zoo import Zoo

GRID_PNG_LEVEL = 1  # the studio's pictures: zlib's fastest level (faces' 64-grid 45 -> 32 ms, files ~10% larger)
GENERATED_BYTES = 64 * 2**20  # grids ``sample_images`` made and ``samples`` may judge (a 64-face grid: 3 MB)

# --- the endpoints' work ------------------------------------------------------------------------


def conditional(entry: GanEntry) -> bool:
    return bool(entry.spec.config.get("num_classes"))


def _classes(entry: GanEntry) -> int:
    if not conditional(entry):
        raise BadRequest(
            f"{entry.spec.name} is not class-conditional: it cannot be asked for a digit. "
            "A conditional one is marked so in GET /api/v1/generators."
        )
    return int(entry.spec.config["num_classes"])


# --- helpers ------------------------------------------------------------------------------------


def _refs(req: SamplesRequest) -> list[LatentRef]:
    return req.latents or [LatentRef(seed=req.seed, index=i) for i in range(req.start, req.start + req.count)]


def _stack(entry: GanEntry, refs: list[LatentRef]) -> torch.Tensor:
    """(N, nz) latents of the references; explicit vectors must have the generator's size."""
    nz = entry.generator.cfg.nz
    rows = []
    for ref in refs:
        if ref.z is not None and len(ref.z) != nz:
            raise BadRequest(f"{entry.spec.name} takes latent vectors of {nz} numbers; this one has {len(ref.z)}.")
        given = ref.z is not None
        rows.append(torch.tensor(ref.z, dtype=torch.float32) if given else lat.latent(ref.seed, ref.index, nz))
    return torch.stack(rows)


def _norms(z: torch.Tensor) -> list[float]:
    return [round(float(n), 3) for n in z.norm(dim=1)]


def _label(names: list[str], probs: list[float], multilabel: bool) -> dict:
    every = {n: round(p, 4) for n, p in zip(names, probs)}
    if not multilabel:
        top = max(range(len(probs)), key=probs.__getitem__)
        return {"label": names[top], "prob": every[names[top]], "probs": every}
    shown = [n for n in names if every[n] > 0.5]
    return {
        "label": ", ".join(shown) or "none of the attributes",
        "probs": every,
        "prob": min((every[n] for n in shown), default=max(1 - p for p in every.values())),
    }


class GanService:
    """The GAN studio: decoded latents, latent arithmetic, interpolation, concept vectors and exemplars."""

    def __init__(
        self, generators: Generators, zoo: Zoo, images: ImageService, executor: Executor, results: ResultCache
    ) -> None:
        self.generators, self.zoo, self.images, self.executor, self.results = generators, zoo, images, executor, results
        self.generated = InputCache(GENERATED_BYTES)  # grids ``sample_images`` made, for ``samples`` to judge
        self.lecture_examples: dict[tuple[str, int], list[list[LatentRef]]] = {}

    def list_generators(self) -> list[GeneratorInfo]:
        return [self._info(e) for e in self.generators.entries.values()]

    def _info(self, e: GanEntry) -> GeneratorInfo:
        cfg = e.spec.config
        return GeneratorInfo(
            name=e.spec.name,
            title=e.spec.title,
            dataset=e.spec.dataset,
            image_shape=(cfg["channels"], cfg["base"] * 2 ** cfg["stages"], cfg["base"] * 2 ** cfg["stages"]),
            nz=cfg["nz"],
            labels=self.labels(e),
            multilabel=e.spec.attributes is not None,
            conditional=conditional(e),
            labelled_by=e.spec.judge or "its own attribute classifier",
            metrics=e.spec.metrics,
            available=e.available,
            reason=e.reason,
            licence=e.spec.licence,
        )

    def labels(self, e: GanEntry) -> list[str]:
        if e.spec.attributes is not None:
            return e.spec.attributes.names
        return self.zoo.entry(e.spec.judge).classes

    async def samples(self, name: str, req: SamplesRequest) -> SamplesResponse:
        """Decoded latents: a pure function of the request, so a grid a room asks for again (the
        studio's first page, a preset) is decoded once and then shared (the result cache). Images
        that ``sample_images`` just made for the same request are judged, not generated again."""
        entry = self.generators.get(name)
        refs = _refs(req)

        async def decode() -> SamplesResponse:
            key = req.model_dump_json()
            pictures = self.results.kept(("gan-images", name, key), kept)
            images = None if pictures is None else self.generated.get((name, key))
            if pictures is None or images is None:
                return SamplesResponse(generator=name, samples=await self._decode(entry, _stack(entry, refs), refs))
            decoded = await self.executor.run(studio.judged, entry, self._judge(entry), images, self.zoo.device)
            stored = [s.image for s in pictures.samples]  # already in the store: not encoded again
            return SamplesResponse(
                generator=name, samples=await run_in_threadpool(self._describe, entry, decoded, refs, stored)
            )

        kept = lambda r: self.images.kept(*(s.image for s in r.samples))
        return await self.results.get(("gan-samples", name, req.model_dump_json()), decode, kept)

    async def sample_images(self, name: str, req: SamplesRequest) -> ImagesResponse:
        """The grid's pictures alone (the generator's forward pass and the PNGs): what a page shows
        first. The images are kept a while for ``samples`` with the same request to judge."""
        entry = self.generators.get(name)
        refs = _refs(req)

        async def generate() -> ImagesResponse:
            images = await self.executor.run(studio.generate, entry, _stack(entry, refs), self.zoo.device)
            self.generated.put((name, req.model_dump_json()), images)
            stored = await run_in_threadpool(self._store, images)
            return ImagesResponse(
                generator=name, samples=[SampleImage(latent=r, image=i) for r, i in zip(refs, stored)]
            )

        kept = lambda r: self.images.kept(*(s.image for s in r.samples))
        return await self.results.get(("gan-images", name, req.model_dump_json()), generate, kept)

    def _store(self, images: torch.Tensor) -> list[ImageInfo]:
        return [
            self.images.store_image(imaging.array_to_image(pixels), compress_level=GRID_PNG_LEVEL)
            for pixels in imaging.to_uint8(images)
        ]

    async def arithmetic(self, name: str, req: ArithmeticRequest) -> ArithmeticResponse:
        entry = self.generators.get(name)
        a, b, c = (_stack(entry, group) for group in (req.a, req.b, req.c))
        result = lat.arithmetic(a, b, c)
        around = lat.noise_like(result, req.noise, req.seed, 9)
        around[[0, 4]] = around[[4, 0]]  # the exact result in the middle of the 3x3
        z = torch.cat([a.mean(0, keepdim=True), b.mean(0, keepdim=True), c.mean(0, keepdim=True), around])
        decoded = await self._decode(entry, z, [None] * len(z))
        return ArithmeticResponse(
            generator=name,
            expression="mean(A) − mean(B) + mean(C)",
            a=decoded[0],
            b=decoded[1],
            c=decoded[2],
            result=decoded[7],
            neighbourhood=decoded[3:],
        )

    async def interpolate(self, name: str, req: InterpolateRequest) -> InterpolateResponse:
        entry = self.generators.get(name)
        start, end = _stack(entry, [req.start, req.end])
        line, arc = lat.lerp(start, end, req.steps), lat.slerp(start, end, req.steps)
        decoded = await self._decode(entry, torch.cat([line, arc]), [None] * (2 * req.steps))
        return InterpolateResponse(
            generator=name,
            lerp=decoded[: req.steps],
            slerp=decoded[req.steps :],
            lerp_norms=_norms(line),
            slerp_norms=_norms(arc),
            typical_norm=math.sqrt(entry.generator.cfg.nz),
        )

    async def digits(self, name: str, req: DigitsRequest) -> DigitsResponse:
        """Each latent drawn as each requested digit (a conditional generator): the style stays, the digit changes."""
        entry = self.generators.get(name)
        k = _classes(entry)
        classes = req.classes or list(range(k))
        if any(c >= k for c in classes):
            raise BadRequest(f"{name} draws the classes 0 to {k - 1}.")
        z = _stack(entry, req.latents).repeat_interleave(len(classes), 0)
        asked = torch.tensor(classes).repeat(len(req.latents))
        decoded = await self.executor.run(studio.decode, entry, self._judge(entry), z, self.zoo.device, asked)
        samples = await run_in_threadpool(self._describe, entry, decoded, [None] * len(z))
        rows = [
            DigitRow(latent=ref, samples=samples[i * len(classes) : (i + 1) * len(classes)])
            for i, ref in enumerate(req.latents)
        ]
        hits = (decoded.probs.argmax(1) == asked).float().mean()
        return DigitsResponse(generator=name, classes=classes, rows=rows, requested_share=round(float(hits), 4))

    async def class_path(self, name: str, req: ClassPathRequest) -> ClassPathResponse:
        """One latent from one digit to another, through the label embeddings (a conditional generator)."""
        entry = self.generators.get(name)
        k = _classes(entry)
        if max(req.start, req.end) >= k:
            raise BadRequest(f"{name} draws the classes 0 to {k - 1}.")
        z = _stack(entry, [req.latent])[0]
        decoded = await self.executor.run(
            studio.decode_class_path, entry, self._judge(entry), z, req.start, req.end, req.steps, self.zoo.device
        )
        frames = await run_in_threadpool(self._describe, entry, decoded, [None] * req.steps)
        return ClassPathResponse(generator=name, frames=frames)

    async def concepts(self, name: str) -> ConceptsResponse:
        entry = self.generators.get(name)
        pool = await self._pool(entry)
        return ConceptsResponse(
            generator=name,
            pool=f"latents ({studio.POOL_SEED}, 0..{studio.POOL_SIZE - 1}), labelled by "
            f"{self._info(entry).labelled_by}",
            concepts=[
                ConceptInfo(
                    name=label,
                    members=int(pool.members(i).sum()),
                    direction_norm=round(float(pool.direction(i).norm()), 4),
                )
                for i, label in enumerate(self.labels(entry))
            ],
        )

    async def concept_edit(self, name: str, req: ConceptRequest) -> ConceptResponse:
        entry = self.generators.get(name)
        concept = self._concept(entry, req.concept)
        pool = await self._pool(entry)
        base = _stack(entry, [req.latent])[0]
        direction = pool.direction(concept)
        z = torch.stack([base + s * direction for s in req.strengths])
        strip = await self._decode(entry, z, [req.latent if s == 0 else None for s in req.strengths])
        return ConceptResponse(generator=name, concept=req.concept, strengths=req.strengths, strip=strip)

    async def exemplars(self, name: str, req: ExemplarRequest) -> ExemplarResponse:
        entry = self.generators.get(name)
        want = [self._concept(entry, c) for c in req.want]
        avoid = [self._concept(entry, c) for c in req.avoid]
        pool = await self._pool(entry)
        refs = [LatentRef(seed=studio.POOL_SEED, index=i) for i in pool.exemplars(want, avoid, req.count)]
        found = await self._decode(entry, _stack(entry, refs), refs)
        return ExemplarResponse(generator=name, want=req.want, avoid=req.avoid, exemplars=found)

    async def lecture_example(self, name: str, count: int) -> list[list[LatentRef]]:
        """Groups A, B and C for the seed's example (man with glasses − man without + woman without),
        drawn from the pool's clearest exemplars so that the result shows a woman with glasses."""
        entry = self.generators.get(name)
        if (name, count) in self.lecture_examples:  # a pure function of the generator: searched once
            return self.lecture_examples[name, count]
        male, glasses = self._concept(entry, "Male"), self._concept(entry, "Eyeglasses")
        groups = [([male, glasses], []), ([male], [glasses]), ([], [male, glasses])]
        pool = await self._pool(entry)
        picked = await self.executor.run(
            studio.verified_arithmetic,
            entry,
            self._judge(entry),
            pool,
            groups,
            ([glasses], [male]),
            self.zoo.device,
            count,
        )
        found = [[LatentRef(seed=studio.POOL_SEED, index=i) for i in group] for group in picked]
        self.lecture_examples[name, count] = found
        return found

    def _concept(self, entry: GanEntry, name: str) -> int:
        names = self.labels(entry)
        by_name = {n.lower(): i for i, n in enumerate(names)}
        if name.strip().lower() not in by_name:
            raise BadRequest(f"{entry.spec.name} knows no concept {name[:40]!r}; its concepts are {', '.join(names)}.")
        return by_name[name.strip().lower()]

    def _judge(self, entry: GanEntry):
        return None if entry.spec.judge is None else self.zoo.model(entry.spec.judge)[1]

    async def _pool(self, entry: GanEntry) -> studio.Pool:
        if entry.pool is None:
            judge = self._judge(entry)
            entry.pool = await self.executor.run(studio.build_pool, entry, judge, self.zoo.device)
        return entry.pool

    async def _decode(self, entry: GanEntry, z: torch.Tensor, refs: list[LatentRef | None]) -> list[Sample]:
        decoded = await self.executor.run(studio.decode, entry, self._judge(entry), z, self.zoo.device)
        return await run_in_threadpool(self._describe, entry, decoded, refs)

    def _describe(
        self, entry: GanEntry, d: studio.Decoded, refs: list[LatentRef | None], stored: list[ImageInfo] | None = None
    ) -> list[Sample]:
        """One Sample per decoded image; pixels and numbers are converted for the whole grid at once.
        ``stored``: the images, when they are in the store already."""
        names = self.labels(entry)
        out = []
        pictures = stored or self._store(d.images)
        for image, real, probs, ref in zip(pictures, d.real.tolist(), d.probs.tolist(), refs):
            out.append(
                Sample(
                    latent=ref,
                    image=image,
                    real=round(real, 4),
                    **_label(names, probs, multilabel=entry.attributes is not None),
                )
            )
        return out
