"""What the classify routes call: the model zoo as the pages and the API list it, one picture
classified, and the model-and-picture choice every such page shows."""

from __future__ import annotations

from functools import partial

import torch
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.media import imaging
from app.runtime.executor import Executor
from app.schemas import ClassifyResponse, ModelInfo, top_predictions
from app.services.images import SAMPLE_PREFIX, ImageService, image_url
from app.zoo import Zoo
from app.zoo.inference import predict_each


class ClassifierService:
    def __init__(self, zoo: Zoo, images: ImageService, executor: Executor, settings: Settings) -> None:
        self.zoo, self.images, self.executor, self.settings = zoo, images, executor, settings

    def list_models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                name=e.spec.name,
                title=e.spec.title,
                dataset=e.spec.dataset,
                input_shape=e.spec.input_shape,
                num_classes=len(e.classes),
                metrics=e.spec.metrics,
                available=e.available,
                reason=e.reason,
                weights_source=e.weights_source,
            )
            for e in self.zoo.entries.values()
        ]

    def picker_context(self, model: str, image: str, models: list[ModelInfo] | None = None) -> dict:
        """What every page with a model and a picture shows: the model choice, the gallery, the chosen
        picture (its URL when it is an upload) and the upload limit."""
        return {
            "models": models if models is not None else self.list_models(),
            "model": model,
            "image": image,
            "image_url": None if image.startswith(SAMPLE_PREFIX) else image_url(image),
            "samples": self.images.list_samples(),
            "max_upload_mb": self.settings.max_upload_bytes // (1024 * 1024),
        }

    async def classify(self, model_name: str, image_ref: str, top_k: int | None = None) -> ClassifyResponse:
        entry, model = self.zoo.model(model_name)
        im = await run_in_threadpool(self.images.load_image, image_ref)
        seen = await run_in_threadpool(imaging.prepare, im, entry.spec.preprocess, entry.spec.input_shape)
        x = imaging.image_to_tensor(seen)[None]
        probs = await self.executor.run_batched(
            ("classify", model_name), x, partial(predict_each, model, self.zoo.device)
        )
        k = min(top_k or self.settings.top_k, len(entry.classes))
        top = torch.topk(probs[0], k)
        truth = self.images.true_label(image_ref, entry.spec.dataset)
        return ClassifyResponse(
            model=model_name,
            image=image_ref,
            predictions=top_predictions(top.values.tolist(), top.indices.tolist(), entry.classes),
            model_input=await run_in_threadpool(self.images.store_image, seen),
            true_label=truth,
            true_label_name=None if truth is None else entry.classes[truth],
        )
