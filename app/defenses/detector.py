"""The "SafetyNet" of seed 002: a second network that tells clean inputs from adversarial ones,
and the adaptive attack that fools the classifier and the detector together.

The detector is an ordinary two-class zoo model (classes "clean" and "adversarial") trained on
clean MNIST digits and FGSM / PGD examples made against the model it guards (mnist-cnn).
"""

from __future__ import annotations

import torch
from torch import nn

from app.attacks.base import cross_entropy
from app.attacks.iterative import Schedule, iterate_with_restarts

CLEAN, ADVERSARIAL = 0, 1
CLASSES = ["clean", "adversarial"]


class Guarded(nn.Module):
    """classifier and detector side by side: pixels -> (N, K + 2) logits, the classifier's first."""

    def __init__(self, classifier: nn.Module, detector: nn.Module) -> None:
        super().__init__()
        self.classifier, self.detector = classifier, detector

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.classifier(x), self.detector(x)], dim=1)


class AdaptiveGoal:
    """Ascend: the classifier's loss on the label, minus ``weight`` times the detector's loss on "clean".

    Achieved when the classifier is wrong and the detector says clean."""

    def __init__(self, labels: torch.Tensor, classes: int, weight: float = 1.0) -> None:
        self.labels, self.classes, self.weight = labels, classes, weight
        self.target = None
        self.start_logits: torch.Tensor | None = None  # the loop's Ascent protocol (attacks/iterative.py)

    @property
    def targeted(self) -> bool:
        return False

    def loss(self, logits: torch.Tensor) -> torch.Tensor:
        cls, det = logits[:, : self.classes], logits[:, self.classes :]
        clean = torch.full_like(self.labels, CLEAN)
        return cross_entropy(cls, self.labels) - self.weight * cross_entropy(det, clean)

    def achieved(self, logits: torch.Tensor) -> torch.Tensor:
        cls, det = logits[:, : self.classes], logits[:, self.classes :]
        return (cls.argmax(1) != self.labels) & (det.argmax(1) == CLEAN)


def adaptive_attack(
    classifier: nn.Module,
    detector: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    steps: int = 100,
    alpha: float = 0.01,
    restarts: int = 1,
    weight: float = 1.0,
    generator: torch.Generator,
) -> torch.Tensor:
    """L∞ PGD against classifier and detector at once (Carlini & Wagner 2017's lesson: attack the
    whole defended system, not the classifier alone)."""
    guarded = Guarded(classifier, detector)
    with torch.no_grad():
        classes = classifier(x[:1]).shape[1]
    goal = AdaptiveGoal(y, classes, weight)
    return iterate_with_restarts(guarded, x, goal, Schedule(eps, alpha, steps, "linf", True), restarts, generator, None)


@torch.no_grad()
def flagged(
    detector: nn.Module, x: torch.Tensor, batch: int = 1000, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """(N,) bool: the detector calls the input adversarial."""
    return torch.cat([detector(b.to(device)).argmax(1).cpu() == ADVERSARIAL for b in x.split(batch)])
