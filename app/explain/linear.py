"""The linear toy of seeds 002 and 004: logistic regression y = sigmoid(w.x + b), nudged by epsilon.

A step x + eps*w moves w.x by eps*||w||_2^2; a step x + eps*sign(w) moves it by eps*||w||_1 while
no input moves by more than eps (the best an L-infinity budget can do, and what FGSM copies).
The second grows with the number of inputs n, which is why high-dimensional models are easy to fool.
Vectors are 1-D float64 arrays of the same length n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The seed's example (lecture notes of seed 002, worked again in seed 004).
SEED_W = (1.0, 3.0, -1.0, 2.0, 2.0, 3.0)
SEED_X = (1.0, -1.0, 2.0, 0.0, 3.0, -2.0)
SEED_B = 0.0
SEED_EPS = 0.2

# Input sizes worth marking on the dimension plot: (name, number of inputs).
DIMENSIONS = (("MNIST 28×28", 784), ("CIFAR 32×32×3", 3072), ("ImageNet 224×224×3", 150528))
LARGEST = DIMENSIONS[-1][1]


@dataclass
class Step:
    """x moved by delta: the new input, its logit z = w.x + b, y = sigmoid(z), and what changed."""

    x: np.ndarray
    z: float
    y: float
    change: float  # z after - z before
    max_input_change: float  # the largest |delta_i|


def sigmoid(z: float) -> float:
    """1 / (1 + e^-z) without overflow for large |z|."""
    return float(0.5 * (1.0 + np.tanh(0.5 * z)))


def logit(w: np.ndarray, x: np.ndarray, b: float) -> float:
    return float(w @ x + b)


def step(w: np.ndarray, x: np.ndarray, b: float, delta: np.ndarray) -> Step:
    """The toy evaluated at x + delta."""
    moved = x + delta
    z = logit(w, moved, b)
    return Step(moved, z, sigmoid(z), z - logit(w, x, b), float(np.abs(delta).max(initial=0.0)))


def along_w(w: np.ndarray, x: np.ndarray, b: float, eps: float) -> Step:
    """x + eps*w, the step of the lecture notes: w.x moves by eps*||w||_2^2."""
    return step(w, x, b, eps * w)


def along_sign(w: np.ndarray, x: np.ndarray, b: float, eps: float) -> Step:
    """x + eps*sign(w), the fast-gradient-sign step: w.x moves by eps*||w||_1."""
    return step(w, x, b, eps * np.sign(w))


def dimension_grid(largest: int = LARGEST, points: int = 48) -> np.ndarray:
    """Input sizes n from 1 to largest, evenly spaced on a log scale, with the marked sizes included."""
    grid = np.geomspace(1, largest, points).round().astype(np.int64)
    return np.unique(np.concatenate([grid, [n for _, n in DIMENSIONS]]))


def dimension_series(w: np.ndarray, eps: float, ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far a step of eps per input moves w.x for a model with n inputs, for each n in ns.

    The n weights are the given w repeated, so their typical size is that of w. Returns
    (aligned, random), each (len(ns),): eps*||w_1..n||_1 for the sign step, which grows like n,
    and eps*||w_1..n||_2, the root-mean-square move of a step with random signs, which grows like sqrt(n).
    """
    tiled = np.resize(np.abs(w), int(ns.max()))  # np.resize repeats w to the requested length
    aligned = eps * np.cumsum(tiled)[ns - 1]
    random = eps * np.sqrt(np.cumsum(tiled**2)[ns - 1])
    return aligned, random
