"""The GAN studio's model work: decode latents, score and label what comes out, and the concept
pool behind concept vectors and exemplar search. Runs on the executor's thread.

Digits are labelled by a zoo classifier (the judge, e.g. mnist-cnn); faces by the GAN's own
attribute classifier. A "concept" is a digit class or a face attribute.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from app.gan import conditional
from app.gan.latent import latents
from app.gan.networks import ConditionalGenerator
from app.gan.zoo import GanEntry

POOL_SEED = 1  # the concept pool is latents (1, 0..POOL_SIZE-1)
POOL_SIZE = 2000
SURE = 0.9  # a digit counts toward its concept when the judge gives it at least this probability


@dataclass
class Decoded:
    images: torch.Tensor  # (N, C, H, W) in [0,1], CPU
    real: torch.Tensor  # (N,) the discriminator's probability that each is real
    probs: torch.Tensor  # (N, K): class probabilities (digits) or attribute probabilities (faces)


@torch.inference_mode()  # no autograd bookkeeping: a 64-face grid decodes about 15% faster
def decode(
    entry: GanEntry, judge: nn.Module | None, z: torch.Tensor, device: torch.device, labels: torch.Tensor | None = None
) -> Decoded:
    """z: (N, nz) -> images, D's verdict and labels. ``labels`` (N,): the digits a conditional
    generator is asked for (D then judges each image as that digit); without them it reads the
    digit from z."""
    return judged(entry, judge, generate(entry, z, device, labels), device, labels)


@torch.inference_mode()
def generate(
    entry: GanEntry, z: torch.Tensor, device: torch.device, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """z: (N, nz) -> images (N, C, H, W) in [0, 1] on the CPU: the generator alone, what a grid
    needs to appear (D's verdict and the labels can follow, from ``judged``)."""
    z = z.to(device)
    images = entry.loaded_generator(z) if labels is None else entry.loaded_generator(z, labels.to(device))
    return images.cpu()


@torch.inference_mode()
def judged(
    entry: GanEntry,
    judge: nn.Module | None,
    images: torch.Tensor,
    device: torch.device,
    labels: torch.Tensor | None = None,
) -> Decoded:
    """Generated images with D's verdict (as the requested digits, given ``labels``) and their labels."""
    images = images.to(device)
    if labels is None:
        real = torch.sigmoid(entry.loaded_discriminator(images))
    else:
        real = torch.sigmoid(entry.loaded_discriminator(images, labels.to(device)))
    return _judged(entry, judge, images, real)


@torch.inference_mode()
def decode_class_path(
    entry: GanEntry, judge: nn.Module | None, z: torch.Tensor, start: int, end: int, steps: int, device: torch.device
) -> Decoded:
    """One latent z (nz,) drawn along the straight line from digit ``start``'s label embedding to
    ``end``'s (conditional generators): the first and last frames are those two digits."""
    generator = entry.loaded_generator
    assert isinstance(generator, ConditionalGenerator), "class paths need a class-conditional generator"
    path = conditional.embedding_path(generator, start, end, steps)
    images = generator.decode(z.to(device).expand(steps, -1), path)
    return _judged(entry, judge, images, torch.sigmoid(entry.loaded_discriminator(images)))


def _judged(entry: GanEntry, judge: nn.Module | None, images: torch.Tensor, real: torch.Tensor) -> Decoded:
    if entry.attributes is not None:
        probs = torch.sigmoid(entry.attributes(images))
    else:
        assert judge is not None, "a GAN without an attribute classifier is labelled by its judge"
        probs = torch.softmax(judge(images), dim=1)
    return Decoded(images.cpu(), real.cpu(), probs.cpu())


@dataclass
class Pool:
    """POOL_SIZE samples and their labels: where concept directions and exemplars come from."""

    z: torch.Tensor  # (P, nz)
    probs: torch.Tensor  # (P, K)
    multilabel: bool  # attributes (faces) or exclusive classes (digits)

    def members(self, concept: int) -> torch.Tensor:
        """(P,) bool: samples that show the concept."""
        if self.multilabel:
            return self.probs[:, concept] > 0.5
        top, label = self.probs.max(1)
        return (label == concept) & (top >= SURE)

    def direction(self, concept: int) -> torch.Tensor:
        """(nz,) mean latent of the samples showing the concept minus that of the others."""
        inside = self.members(concept)
        if inside.sum() == 0 or (~inside).sum() == 0:
            return torch.zeros(self.z.shape[1])
        return self.z[inside].mean(0) - self.z[~inside].mean(0)

    def exemplars(self, want: list[int], avoid: list[int], count: int) -> list[int]:
        """Pool indices of the samples that best show every wanted concept and none of the avoided."""
        score = torch.ones(len(self.z), dtype=torch.float64)
        for c in want:
            score *= self.probs[:, c].double()
        for c in avoid:
            score *= 1 - self.probs[:, c].double()
        order = torch.argsort(score, descending=True)
        return order[:count].tolist()


def build_pool(entry: GanEntry, judge: nn.Module | None, device: torch.device, batch: int = 250) -> Pool:
    z = latents(POOL_SEED, range(POOL_SIZE), entry.loaded_generator.cfg.nz)
    probs = torch.cat([decode(entry, judge, chunk, device).probs for chunk in z.split(batch)])
    return Pool(z, probs, multilabel=entry.attributes is not None)


def verified_arithmetic(
    entry: GanEntry,
    judge: nn.Module | None,
    pool: Pool,
    groups: list[tuple[list[int], list[int]]],
    expect: tuple[list[int], list[int]],
    device: torch.device,
    count: int = 3,
    candidates: int = 60,
    tries: int = 256,
    seed: int = 0,
) -> list[list[int]]:
    """Exemplars for mean(A) − mean(B) + mean(C) whose result shows what the arithmetic should give.

    ``groups``: (wanted, avoided) concepts of A, B and C; ``expect``: the concepts the result should
    show and not show. Draws ``count`` of each group's ``candidates`` clearest exemplars, ``tries``
    times (seeded), and returns the pool indices of the draw whose result the classifier finds most
    surely right (the best exemplars alone when none is right). This is how a paper picks its figure;
    how often a random draw works is measured by benchmarks/gan_lecture_example.py."""
    gen = torch.Generator().manual_seed(seed)
    tops = [pool.exemplars(want, avoid, candidates) for want, avoid in groups]
    draws = [[top[:count] for top in tops]]
    for _ in range(tries - 1):
        draws.append([[top[i] for i in torch.randperm(len(top), generator=gen)[:count].tolist()] for top in tops])
    z = torch.stack([torch.stack([pool.z[idx].mean(0) for idx in d]) for d in draws])  # (tries, 3, nz)
    results = decode(entry, judge, z[:, 0] - z[:, 1] + z[:, 2], device)
    shown, hidden = expect
    score = torch.ones(len(draws), dtype=torch.float64)
    for c in shown:
        score *= results.probs[:, c].double()
    for c in hidden:
        score *= 1 - results.probs[:, c].double()
    right = torch.ones(len(draws), dtype=torch.bool)
    for c in shown:
        right &= results.probs[:, c] > 0.5
    for c in hidden:
        right &= results.probs[:, c] <= 0.5
    best = int(torch.argmax(torch.where(right, score, torch.full_like(score, -1.0))))
    return draws[best] if bool(right.any()) else draws[0]
