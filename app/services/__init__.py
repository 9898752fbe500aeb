"""What the JSON API and the pages both call. Routes stay thin; torch stays here and below."""

from __future__ import annotations

import asyncio
import io
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import torch
from PIL import Image
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.errors import BadRequest
from app.gan.lab import LabManager
from app.gan.upscalers import Upscalers
from app.gan.zoo import Generators
from app.media import imaging
from app.media.gallery import Gallery
from app.media.store import ImageStore
from app.runtime.executor import Executor
from app.runtime.jobs import JobManager
from app.schemas import ClassifyResponse, ImageInfo, ModelInfo, SampleInfo, top_predictions
from app.zoo import Zoo, ZooEntry
from app.zoo.inference import predict_each

SAMPLE_PREFIX = "sample:"
T = TypeVar("T")


class InputCache:
    """Prepared model inputs by (image ref, preprocessing, input shape), least recently used out.

    Image refs name immutable pictures (gallery samples, or content-addressed store ids), so a
    prepared input never goes stale. A slider drag sends the same picture dozens of times:
    decoding and preprocessing it once saves that work on every request after the first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.total_bytes = max_bytes, 0
        self._items: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> torch.Tensor | None:
        with self._lock:
            x = self._items.get(key)
            if x is not None:
                self._items.move_to_end(key)
        return None if x is None else x.clone()  # callers may change their copy

    def put(self, key: tuple, x: torch.Tensor) -> None:
        size = x.numel() * x.element_size()
        with self._lock:
            if key in self._items or size > self.max_bytes:
                return
            self._items[key] = x.clone()
            self.total_bytes += size
            while self.total_bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self.total_bytes -= old.numel() * old.element_size()


class ResultCache:
    """Finished results by request, least recently used out, and the ones being computed.

    For results that are pure functions of their request and seed (attacks, FGSM sweeps, GAN
    samples): a room of students opens the same presets and gallery images, so each result is
    computed once and then served from here. ``still_valid`` says whether a kept result's images
    are still in the store; one that is not is computed again."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.stats = {"hits": 0, "shared": 0, "computed": 0}  # for /healthz and the benchmarks
        self._done: OrderedDict[tuple, object] = OrderedDict()
        self._running: dict[tuple, asyncio.Task] = {}

    def kept(self, key: tuple, still_valid: Callable[[T], bool]) -> T | None:
        hit = self._done.get(key)
        if hit is None or not still_valid(hit):
            return None
        self._done.move_to_end(key)
        self.stats["hits"] += 1
        return hit

    def keep(self, key: tuple, result: object) -> None:
        """Keep a result just computed for ``key``."""
        self.stats["computed"] += 1
        if self.entries <= 0:
            return
        self._done[key] = result
        self._done.move_to_end(key)
        while len(self._done) > self.entries:
            self._done.popitem(last=False)

    async def get(self, key: tuple, compute: Callable[[], Awaitable[T]], still_valid: Callable[[T], bool]) -> T:
        """The result for ``key``: kept, being computed, or computed now by ``compute()``, for cheap
        work. Identical requests that arrive meanwhile share the computation, which runs as a task
        of its own: a client that leaves does not stop it for the others. With ``entries`` 0
        nothing is reused: every request computes (benchmarks measure the model path so)."""
        hit = self.kept(key, still_valid)
        if hit is not None:
            return hit
        if self.entries <= 0:
            self.stats["computed"] += 1
            return await compute()
        task = self._running.get(key)
        if task is None:
            task = self._running[key] = asyncio.ensure_future(self._run(key, compute))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved, even if nobody waits
        else:
            self.stats["shared"] += 1
        return await asyncio.shield(task)

    async def _run(self, key: tuple, compute: Callable[[], Awaitable[T]]) -> T:
        try:
            result = await compute()
        finally:
            del self._running[key]
        self.keep(key, result)
        return result


@dataclass
class Lab:
    """Everything a request needs, built once at start-up (see app/main.py)."""

    settings: Settings
    zoo: Zoo
    generators: Generators
    upscalers: Upscalers
    store: ImageStore
    gallery: Gallery
    executor: Executor
    gan_lab: LabManager
    jobs: JobManager
    inputs: InputCache
    results: ResultCache  # FGSM results and sweeps, GAN samples: pure functions of their requests


def list_models(lab: Lab) -> list[ModelInfo]:
    return [
        ModelInfo(name=e.spec.name, title=e.spec.title, dataset=e.spec.dataset,
                  input_shape=e.spec.input_shape, num_classes=len(e.classes), metrics=e.spec.metrics,
                  available=e.available, reason=e.reason, weights_source=e.weights_source)
        for e in lab.zoo.entries.values()
    ]


def list_samples(lab: Lab) -> list[SampleInfo]:
    return [
        SampleInfo(id=s.id, title=s.title, kind=s.kind, label=s.label, dataset=s.dataset,
                   attribution=s.attribution, url=sample_url(s.id))
        for s in lab.gallery.samples
    ]


def image_for(lab: Lab, entry: ZooEntry, ref: str, switched: bool = False) -> str:
    """The picture a page shows for this model: ``ref``, or the gallery's first sample that suits
    the model (a digit for 28×28 models, a photo for the others) when nothing is chosen, or when the
    model was just switched and the chosen sample does not suit it. Uploads are always kept."""
    kind = "digit" if entry.spec.input_shape[1] < 64 else "photo"
    if ref and not (switched and ref.startswith(SAMPLE_PREFIX)):
        return ref
    if ref and lab.gallery.get(ref.removeprefix(SAMPLE_PREFIX)).kind == kind:
        return ref
    return SAMPLE_PREFIX + next(s.id for s in lab.gallery.samples if s.kind == kind)


def sample_url(sample_id: str) -> str:
    return f"/api/v1/samples/{sample_id}.png"


def image_url(image_id: str) -> str:
    return f"/api/v1/images/{image_id}.png"


async def store_upload(lab: Lab, data: bytes, client: str) -> ImageInfo:
    """Validate, decode and re-encode an upload, then keep it in the image store as ``client``'s."""
    im = await run_in_threadpool(imaging.decode_upload, data, lab.settings.max_image_pixels)
    return await run_in_threadpool(store_image, lab, im, client)


def store_image(lab: Lab, im: Image.Image, client: str | None = None) -> ImageInfo:
    """Keep a picture: an upload of ``client``, or (None) a result the app made."""
    image_id = lab.store.put(imaging.encode_png(im), client)
    return ImageInfo(id=image_id, width=im.width, height=im.height, url=image_url(image_id))


def store_tensor(lab: Lab, x: torch.Tensor) -> ImageInfo:
    """Keep pixels (C, H, W) in [0,1] as an 8-bit PNG in the image store."""
    return store_image(lab, imaging.tensor_to_image(x))


def model_input(lab: Lab, ref: str, entry: ZooEntry) -> torch.Tensor:
    """(1, C, H, W) pixels of an image as the model sees it (after its preprocessing)."""
    key = input_key(ref, entry)
    x = cached_input(lab, key)
    if x is None:
        seen = imaging.prepare(load_image(lab, ref), entry.spec.preprocess, entry.spec.input_shape)
        x = imaging.image_to_tensor(seen)[None]
        lab.inputs.put(key, x)
    return x


def input_key(ref: str, entry: ZooEntry) -> tuple:
    return ref, entry.spec.preprocess, tuple(entry.spec.input_shape)


def cached_input(lab: Lab, key: tuple) -> torch.Tensor | None:
    """A prepared input from the cache; an upload the store has evicted is gone here too (404)."""
    ref = key[0]
    if ref and not ref.startswith(SAMPLE_PREFIX):
        lab.store.check(ref)
    return lab.inputs.get(key)


async def model_input_async(lab: Lab, ref: str, entry: ZooEntry) -> torch.Tensor:
    """``model_input`` from the event loop: a cached input at once, else decoded on a worker thread."""
    x = cached_input(lab, input_key(ref, entry))
    return x if x is not None else await run_in_threadpool(model_input, lab, ref, entry)


def image_png(lab: Lab, ref: str) -> bytes:
    """PNG bytes of a stored image or a gallery sample."""
    if ref.startswith(SAMPLE_PREFIX):
        return lab.gallery.png(ref.removeprefix(SAMPLE_PREFIX))
    return lab.store.get(ref)


def load_image(lab: Lab, ref: str) -> Image.Image:
    if not ref:
        raise BadRequest("Please choose an image: a gallery sample or an upload.")
    if ref.startswith(SAMPLE_PREFIX):
        return lab.gallery.image(ref.removeprefix(SAMPLE_PREFIX))
    return Image.open(io.BytesIO(lab.store.get(ref))).convert("RGB")


def picker_context(lab: Lab, model: str, image: str, models: list[ModelInfo] | None = None) -> dict:
    """What every page with a model and a picture shows: the model choice, the gallery, the chosen
    picture (its URL when it is an upload) and the upload limit."""
    return {
        "models": models if models is not None else list_models(lab),
        "model": model,
        "image": image,
        "image_url": None if image.startswith(SAMPLE_PREFIX) else image_url(image),
        "samples": list_samples(lab),
        "max_upload_mb": lab.settings.max_upload_bytes // (1024 * 1024),
    }


def true_label(lab: Lab, ref: str, dataset: str) -> int | None:
    """The known class of a gallery sample from the model's own dataset, else None."""
    if not ref.startswith(SAMPLE_PREFIX):
        return None
    sample = lab.gallery.get(ref.removeprefix(SAMPLE_PREFIX))
    return sample.label if sample.dataset == dataset else None


async def classify(lab: Lab, model_name: str, image_ref: str, top_k: int | None = None) -> ClassifyResponse:
    entry, model = lab.zoo.model(model_name)
    im = await run_in_threadpool(load_image, lab, image_ref)
    seen = await run_in_threadpool(imaging.prepare, im, entry.spec.preprocess, entry.spec.input_shape)
    x = imaging.image_to_tensor(seen)[None]
    probs = await lab.executor.run_batched(("classify", model_name), x, partial(predict_each, model, lab.zoo.device))
    k = min(top_k or lab.settings.top_k, len(entry.classes))
    top = torch.topk(probs[0], k)
    truth = true_label(lab, image_ref, entry.spec.dataset)
    return ClassifyResponse(
        model=model_name, image=image_ref,
        predictions=top_predictions(top.values.tolist(), top.indices.tolist(), entry.classes),
        model_input=await run_in_threadpool(store_image, lab, seen),
        true_label=truth,
        true_label_name=None if truth is None else entry.classes[truth],
    )
