"""Forward passes of the zoo's classifiers: probabilities for pixels, on the model's device."""

from __future__ import annotations

import torch

from app.zoo.architectures import Classifier


def predict_each(model: Classifier, device: torch.device, xs: list[torch.Tensor]) -> list[torch.Tensor]:
    """One forward for a batch of requests' inputs (each (1, C, H, W)); each gets its (1, K) probabilities."""
    return list(predict(model, torch.cat(xs), device).split(1))


def predict(model: Classifier, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Softmax probabilities (N, K) on the CPU for pixels x (N, C, H, W) in [0,1]."""
    with torch.inference_mode():
        return torch.softmax(model(x.to(device)), dim=1).cpu()
