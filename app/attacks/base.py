"""What every attack shares: its Params, the Attack interface, the goal (untargeted or a target
class), the per-step recorder and the time budget.

Pixels are in [0,1] everywhere; models take pixels and return logits (N, K). Attacks take the
gradient with respect to the input only (torch.autograd.grad); model parameters stay frozen.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, model_validator
from torch import nn

from app.errors import BadRequest, ClientGone, DeadlineExceeded
from app.validation import no_booleans_for_numbers


class Params(BaseModel):
    """An attack's settings; subclasses give each field a default, bounds and a description.
    Unknown keys and true/false for a number are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        return no_booleans_for_numbers(cls, data)


AttackParams = Params  # the base class, under a name that Attack's ``Params`` attribute does not shadow
P = TypeVar("P", bound=AttackParams)  # one attack's Params class


@dataclass
class Goal:
    """What the attack aims for, per image: leave ``labels`` (untargeted) or reach ``target``."""

    labels: torch.Tensor  # (N,) the true (or predicted) classes
    target: torch.Tensor | None = None  # (N,) target classes, or None for untargeted
    # (N, K) the model's logits on the image the attack started from, when the attack computed
    # them on its way (FGSM's one gradient, an iterative attack's first step without a random
    # start): run_attack then takes the "before" predictions from them and skips a forward.
    start_logits: torch.Tensor | None = None

    @property
    def targeted(self) -> bool:
        return self.target is not None

    def achieved(self, logits: torch.Tensor) -> torch.Tensor:
        """(N,) bool: the prediction is the target, or (untargeted) no longer the label."""
        pred = logits.argmax(dim=1)
        return pred == self.target if self.target is not None else pred != self.labels

    def loss(self, logits: torch.Tensor) -> torch.Tensor:
        """(N,) cross-entropy the attack ascends: away from the label, or toward the target."""
        if self.target is not None:
            return -cross_entropy(logits, self.target)
        return cross_entropy(logits, self.labels)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(N,) cross-entropy as softplus(logsumexp_{j≠y} z_j − z_y), exact for confident models.

    F.cross_entropy's gradient for the true class is p_y − 1, which rounds to 0 in float32 once
    p_y > 1 − 6e-8, leaving only the other classes' terms: on a confident digit the input gradient
    can point the wrong way. This form's gradient, σ(·)·(...), keeps those small terms exact."""
    own = logits.gather(1, labels[:, None])[:, 0]
    others = logits.masked_fill(F.one_hot(labels, logits.shape[1]).bool(), float("-inf"))
    return F.softplus(torch.logsumexp(others, dim=1) - own)


@dataclass
class Budget:
    """Checked between steps: past the deadline the work stops with a 504; when ``cancel`` is set
    (the client went away, or the executor's deadline passed) it stops at once."""

    seconds: float | None = None
    started: float = field(default_factory=time.monotonic)
    cancel: threading.Event | None = None

    def check(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ClientGone("The attack was stopped: its request was cancelled.")
        if self.seconds is not None and time.monotonic() - self.started > self.seconds:
            raise DeadlineExceeded(
                f"The attack took longer than the {self.seconds:g} s limit. Try fewer steps or a smaller model."
            )


@dataclass
class Recorder:
    """The per-step trajectory of the first image in the batch, with snapshots to scrub through."""

    true_class: int
    target_class: int | None
    snapshot_every: int = 1
    steps: list[dict] = field(default_factory=list)
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)
    budget: Budget = field(default_factory=Budget)

    def record(
        self, step: int, x: torch.Tensor, probs: list[float], linf: float, l2: float, loss: float | None = None
    ) -> None:
        """x: (C, H, W) the current image; probs: its K class probabilities; linf, l2: ‖x − x0‖."""
        self.budget.check()
        if self.steps and self.steps[-1]["step"] == step:  # the final state replaces a same-step record
            self.steps.pop()
            if self.snapshots and self.snapshots[-1][0] == step:
                self.snapshots.pop()
        self.steps.append(
            {
                "step": step,
                "true_prob": probs[self.true_class],
                "target_prob": None if self.target_class is None else probs[self.target_class],
                "top_class": max(range(len(probs)), key=probs.__getitem__),
                "loss": loss,
                "linf": linf,
                "l2": l2,
            }
        )
        if step % self.snapshot_every == 0:
            self.snapshots.append((step, x.detach().cpu().clone()))


# What an attack's perturb receives to trace with: no recorder, image 0's, or (a batch of requests,
# for an attack with per_image_params) one per image.
Trace: TypeAlias = Recorder | list[Recorder] | None


class Attack(ABC, Generic[P]):
    """One technique. Subclasses set the class attributes and implement ``perturb``; ``Attack[XParams]``
    says which Params their ``perturb`` receives."""

    name: ClassVar[str]
    title: ClassVar[str]
    norm: ClassVar[str]  # "linf", "l2" or "l0"
    supports_untargeted: ClassVar[bool] = True
    supports_targeted: ClassVar[bool] = True
    starts_from_noise: ClassVar[bool] = False
    max_features: ClassVar[int | None] = None  # C*H*W above which the attack is refused
    # Params that may differ between the images of one batch (passed as (N, 1, 1, 1) tensors). An
    # attack that names any is deterministic and treats each image on its own, so the executor may
    # batch concurrent requests for it (results equal running them one by one).
    per_image_params: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type[Params]]
    paper: ClassVar[str] = ""

    def check(self, x: torch.Tensor, goal: Goal) -> None:
        """Refuse what this attack cannot do, with a reason a student understands (422)."""
        if goal.targeted and not self.supports_targeted:
            raise BadRequest(f"{self.title} is untargeted only: leave the target class empty.")
        if not goal.targeted and not self.supports_untargeted:
            raise BadRequest(f"{self.title} needs a target class.")
        features = x[0].numel()
        if self.max_features is not None and features > self.max_features:
            raise BadRequest(self.too_costly(features))

    def too_costly(self, features: int) -> str:
        return f"{self.title} is too costly for an input of {features:,} values (the limit is {self.max_features:,})."

    def start(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The image the attack starts from and is measured against: the input itself, usually."""
        return x

    @abstractmethod
    def perturb(
        self, model: nn.Module, x: torch.Tensor, goal: Goal, params: P, generator: torch.Generator, recorder: Trace
    ) -> tuple[torch.Tensor, int]:
        """x: (N, C, H, W) in [0,1] -> (adversarial (N, C, H, W) in [0,1], steps taken)."""


def input_gradient(model: nn.Module, x: torch.Tensor, objective) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(gradient of objective(logits).sum() w.r.t. x, logits, per-image objective), x: (N, C, H, W)."""
    x = x.detach().requires_grad_(True)
    logits = model(x)
    value = objective(logits)
    (grad,) = torch.autograd.grad(value.sum(), x)
    return grad, logits.detach(), value.detach()


def record_first(
    recorder: Trace,
    step: int,
    x0: torch.Tensor,
    x: torch.Tensor,
    logits: torch.Tensor,
    loss: torch.Tensor | None = None,
) -> None:
    """Record image 0 of a batch, if there is a recorder; with a list (a batch of requests), image i
    goes to recorder i."""
    recorders = recorder if isinstance(recorder, list) else [] if recorder is None else [recorder]
    record_batch(recorders, step, x0, x, logits, loss)


def record_batch(
    recorders: list[Recorder],
    step: int,
    x0: torch.Tensor,
    x: torch.Tensor,
    logits: torch.Tensor,
    loss: torch.Tensor | None = None,
) -> None:
    """Image i of x0, x (N, C, H, W), logits (N, K) and loss (N,) goes to recorder i. The figures
    are computed for all traced images at once: a batch of 32 slider requests costs a few tensor
    operations, not a few hundred."""
    n = len(recorders)
    if n == 0:
        return
    x = x[:n].detach()
    delta = (x - x0[:n]).flatten(1)
    probs = torch.softmax(logits[:n].detach().float(), dim=1).tolist()
    linf, l2 = delta.abs().amax(dim=1).tolist(), delta.norm(dim=1).tolist()
    losses = [None] * n if loss is None else loss[:n].detach().float().tolist()
    for i, r in enumerate(recorders):
        r.record(step, x[i], probs[i], linf[i], l2[i], losses[i])
