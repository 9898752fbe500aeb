"""``advlab eval NAME``: re-measure a zoo model as the app loads it."""

from __future__ import annotations

from collections.abc import Iterator

from app import data, imaging
from app.config import Settings
from app.gallery import Gallery
from app.services import predict
from app.training.classifiers import evaluate
from app.zoo import Zoo
from app.zoo.manifest import read_manifest


def evaluate_zoo_model(settings: Settings, name: str, limit: int = 0) -> Iterator[str]:
    """Yield report lines. Dataset models: clean test accuracy. ImageNet: the gallery photos' top-1."""
    zoo = Zoo.load(settings, only={name})
    if name not in zoo.entries:
        known = ", ".join(spec.name for spec in read_manifest(settings.models_dir))
        raise KeyError(f"unknown model {name!r}; known: {known}")
    entry = zoo.entries[name]
    if entry.model is None:
        raise RuntimeError(f"{name} is unavailable: {entry.reason}")
    spec = entry.spec
    if spec.dataset in data.DATASETS:
        x, y = data.load_split(spec.dataset, settings.data_dir, train=False)
        if limit:
            x, y = x[:limit], y[:limit]
        accuracy = evaluate(entry.model, x, y, str(zoo.device))
        yield f"{name}: test accuracy {accuracy * 100:.2f}% on {len(y)} {spec.dataset} test images"
        recorded = spec.metrics.get("test_accuracy")
        if recorded is not None:
            yield f"{name}: manifest records {recorded * 100:.2f}% ({spec.metrics.get('command')})"
        return
    yield f"{name}: no {spec.dataset} test set here; top-1 on the gallery photos instead:"
    gallery = Gallery(settings.gallery_dir)
    for sample in (s for s in gallery.samples if s.kind == "photo"):
        seen = imaging.prepare(gallery.image(sample.id), spec.preprocess, spec.input_shape)
        probs = predict(entry.model, imaging.image_to_tensor(seen)[None], zoo.device)[0]
        top = int(probs.argmax())
        yield f"  {sample.id:10s} -> {entry.classes[top]} ({probs[top]:.2f})"
