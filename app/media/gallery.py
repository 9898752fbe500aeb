"""Built-in images: a few hundred MNIST test digits and a handful of public-domain/CC0 photos.

Referenced as ``sample:<id>`` wherever an image id is accepted. Served re-encoded as PNG.
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

from PIL import Image

from app.errors import NotFound
from app.media import imaging

INDEX = "index.json"
MNIST_CREDIT = "MNIST test set (Yann LeCun, Corinna Cortes, Christopher J.C. Burges)"
PHOTOS = {  # file -> (id, title, attribution), from the photos' LICENSES.md
    "chelsea.png": ("chelsea", "Chelsea the tabby cat", "CC0, photographer Stefan van der Walt"),
    "coffee.png": ("coffee", "A cup of coffee", "CC0, photographer Rachel Michetti"),
    "astronaut.png": ("astronaut", "Astronaut Eileen Collins", "NASA, public domain"),
    "rocket.jpg": ("rocket", "DSCOVR launch on a Falcon 9", "SpaceX, public domain"),
    "camera.png": ("camera", "The cameraman (grayscale)", "CC0, photographer Lav Varshney"),
}


@dataclass(frozen=True)
class Sample:
    id: str
    title: str
    kind: str  # "digit" or "photo"
    file: str  # relative to the gallery folder
    attribution: str
    label: int | None = None  # the true class, for dataset samples
    dataset: str | None = None


class Gallery:
    def __init__(self, root: Path) -> None:
        self.root = root
        entries = json.loads((root / INDEX).read_text())["samples"]
        self.samples = [Sample(**entry) for entry in entries]
        self._by_id = {s.id: s for s in self.samples}

    def get(self, sample_id: str) -> Sample:
        if sample_id not in self._by_id:
            raise NotFound(f"There is no gallery sample {sample_id[:80]!r}; GET /api/v1/samples lists them.")
        return self._by_id[sample_id]

    def image(self, sample_id: str) -> Image.Image:
        return Image.open(io.BytesIO(self.png(sample_id))).convert("RGB")

    def png(self, sample_id: str) -> bytes:
        return self._pngs[self.get(sample_id).id]

    @cached_property
    def _pngs(self) -> dict[str, bytes]:
        """Every sample re-encoded once as PNG (the whole gallery is well under a few MB)."""
        out = {}
        for s in self.samples:
            with Image.open(self.root / s.file) as im:
                out[s.id] = imaging.encode_png(im.convert("L") if s.kind == "digit" else imaging.to_rgb(im))
        return out


def build_gallery(data_dir: Path, out: Path, photos: Path | None, per_class: int = 10) -> None:
    """Write the first ``per_class`` test digits of each class and the photos, plus index.json."""
    from app.media import data

    images, labels = data.load_split("mnist", data_dir, train=False)
    (out / "mnist").mkdir(parents=True, exist_ok=True)
    samples = []
    for digit in range(10):
        for index in (labels == digit).nonzero().flatten()[:per_class].tolist():
            file = f"mnist/{index:05d}.png"
            imaging.tensor_to_image(images[index]).save(out / file)
            samples.append(
                Sample(
                    f"mnist-{index:05d}",
                    f"MNIST test digit #{index} (a {digit})",
                    "digit",
                    file,
                    MNIST_CREDIT,
                    label=digit,
                    dataset="mnist",
                )
            )
    if photos:
        (out / "photos").mkdir(exist_ok=True)
        shutil.copy(photos / "LICENSES.md", out / "photos" / "LICENSES.md")
        for name, (sample_id, title, credit) in PHOTOS.items():
            shutil.copy(photos / name, out / "photos" / name)
            samples.append(Sample(sample_id, title, "photo", f"photos/{name}", credit))
    (out / INDEX).write_text(json.dumps({"samples": [asdict(s) for s in samples]}, indent=1) + "\n")
