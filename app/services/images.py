"""Pictures for every feature: the gallery and the image store, uploads, and model inputs prepared once."""

from __future__ import annotations

import io

import torch
from PIL import Image
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.errors import BadRequest
from app.media import imaging
from app.media.gallery import Gallery
from app.media.store import ImageStore
from app.schemas import ImageInfo, SampleInfo
from app.services import InputCache
from app.zoo import ZooEntry

SAMPLE_PREFIX = "sample:"


def sample_url(sample_id: str) -> str:
    return f"/api/v1/samples/{sample_id}.png"


def image_url(image_id: str) -> str:
    return f"/api/v1/images/{image_id}.png"


def input_key(ref: str, entry: ZooEntry) -> tuple:
    return ref, entry.spec.preprocess, tuple(entry.spec.input_shape)


class ImageService:
    """Image refs (``sample:<id>`` for the gallery, else an image store id) to pictures and model
    inputs, and pictures to stored PNGs."""

    def __init__(self, gallery: Gallery, store: ImageStore, inputs: InputCache, settings: Settings) -> None:
        self.gallery, self.store, self.inputs, self.settings = gallery, store, inputs, settings

    @property
    def max_upload_bytes(self) -> int:
        return self.settings.max_upload_bytes

    def list_samples(self) -> list[SampleInfo]:
        return [
            SampleInfo(
                id=s.id,
                title=s.title,
                kind=s.kind,
                label=s.label,
                dataset=s.dataset,
                attribution=s.attribution,
                url=sample_url(s.id),
            )
            for s in self.gallery.samples
        ]

    def image_for(self, entry: ZooEntry, ref: str, switched: bool = False) -> str:
        """The picture a page shows for this model: ``ref``, or the gallery's first sample that suits
        the model (a digit for 28×28 models, a photo for the others) when nothing is chosen, or when the
        model was just switched and the chosen sample does not suit it. Uploads are always kept."""
        kind = "digit" if entry.spec.input_shape[1] < 64 else "photo"
        if ref and not (switched and ref.startswith(SAMPLE_PREFIX)):
            return ref
        if ref and self.gallery.get(ref.removeprefix(SAMPLE_PREFIX)).kind == kind:
            return ref
        return SAMPLE_PREFIX + next(s.id for s in self.gallery.samples if s.kind == kind)

    def check(self, ref: str) -> None:
        """A 404 for an upload the store has evicted (gallery samples are always there)."""
        if ref and not ref.startswith(SAMPLE_PREFIX):
            self.store.check(ref)

    def kept(self, *images: ImageInfo) -> bool:
        """Whether every one of these stored images is still in the store."""
        return all(i.id in self.store for i in images)

    async def store_upload(self, data: bytes, client: str) -> ImageInfo:
        """Validate, decode and re-encode an upload, then keep it in the image store as ``client``'s."""
        im = await run_in_threadpool(imaging.decode_upload, data, self.settings.max_image_pixels)
        return await run_in_threadpool(self.store_image, im, client)

    def store_image(self, im: Image.Image, client: str | None = None, compress_level: int = 6) -> ImageInfo:
        """Keep a picture: an upload of ``client``, or (None) a result the app made. A lower
        ``compress_level`` trades a few bytes for speed (the studio's grids, which are waited for)."""
        image_id = self.store.put(imaging.encode_png(im, compress_level), client)
        return ImageInfo(id=image_id, width=im.width, height=im.height, url=image_url(image_id))

    def store_tensor(self, x: torch.Tensor) -> ImageInfo:
        """Keep pixels (C, H, W) in [0,1] as an 8-bit PNG in the image store."""
        return self.store_image(imaging.tensor_to_image(x))

    def model_input(self, ref: str, entry: ZooEntry) -> torch.Tensor:
        """(1, C, H, W) pixels of an image as the model sees it (after its preprocessing)."""
        key = input_key(ref, entry)
        x = self.cached_input(key)
        if x is None:
            seen = imaging.prepare(self.load_image(ref), entry.spec.preprocess, entry.spec.input_shape)
            x = imaging.image_to_tensor(seen)[None]
            self.inputs.put(key, x)
        return x

    def cached_input(self, key: tuple) -> torch.Tensor | None:
        """A prepared input from the cache; an upload the store has evicted is gone here too (404)."""
        self.check(key[0])
        return self.inputs.get(key)

    async def model_input_async(self, ref: str, entry: ZooEntry) -> torch.Tensor:
        """``model_input`` from the event loop: a cached input at once, else decoded on a worker thread."""
        x = self.cached_input(input_key(ref, entry))
        return x if x is not None else await run_in_threadpool(self.model_input, ref, entry)

    def image_png(self, ref: str) -> bytes:
        """PNG bytes of a stored image or a gallery sample."""
        if ref.startswith(SAMPLE_PREFIX):
            return self.gallery.png(ref.removeprefix(SAMPLE_PREFIX))
        return self.store.get(ref)

    def load_image(self, ref: str) -> Image.Image:
        if not ref:
            raise BadRequest("Please choose an image: a gallery sample or an upload.")
        if ref.startswith(SAMPLE_PREFIX):
            return self.gallery.image(ref.removeprefix(SAMPLE_PREFIX))
        return Image.open(io.BytesIO(self.store.get(ref))).convert("RGB")

    def true_label(self, ref: str, dataset: str) -> int | None:
        """The known class of a gallery sample from the model's own dataset, else None."""
        if not ref.startswith(SAMPLE_PREFIX):
            return None
        sample = self.gallery.get(ref.removeprefix(SAMPLE_PREFIX))
        return sample.label if sample.dataset == dataset else None
