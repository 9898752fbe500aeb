"""The curated lecture demos: one permalink per step of the seeds' story, in the order a lecture
tells it. /presets lists them, /presets/{k} opens demo k as part of the sequence.

Each URL is an ordinary permalink of a page, so a demo shows exactly the same result every time
(every result is a pure function of its inputs and seed). The parameters were chosen so that the
demo succeeds, checked through the API (e.g. POST /api/v1/attacks/pgd) and by tests/test_browser_lecture.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    slug: str  # a stable name, used by the tests
    title: str
    summary: str  # one line, for a student
    url: str  # a same-site permalink
    needs: tuple[str, ...] = ()  # models, generators or shipped experiments the page needs


PRESETS: tuple[Preset, ...] = (
    Preset(
        "linear-toy",
        "Why a small step fools a linear model",
        "Six weights and a step of ε = 0.2 along w take σ(w·x) from 0.018 to 0.83; with more inputs the "
        "same step does far more.",
        "/linear?eps=0.2",
    ),
    Preset(
        "fgsm-slider",
        "FGSM on a digit, with the ε slider",
        "One step along the sign of the gradient turns this 9 into a 4 at ε = 0.2; press − and + to watch "
        "it flip back and forth.",
        "/attack?model=mnist-cnn&image=sample:mnist-00007&attack=fgsm&eps=0.2&run=1",
    ),
    Preset(
        "pgd-7-to-3",
        "Targeted PGD: a 7 that reads as a 3",
        "Twenty small projected steps, none larger than 0.2 per pixel, make mnist-cnn 99.9% sure this 7 is a 3.",
        "/attack?model=mnist-cnn&image=sample:mnist-00000&attack=pgd&target=3&eps=0.2&steps=20&run=1",
    ),
    Preset(
        "fooling-noise",
        "A fooling image grown from noise",
        "Start from random noise and descend the lecture's loss: the model becomes certain it sees a 3 in a "
        "picture of nothing.",
        "/attack?model=mnist-cnn&image=sample:mnist-00003&attack=fooling-noise&target=3&run=1",
    ),
    Preset(
        "cw-invisible",
        "C&W: a change too small to see",
        "Carlini & Wagner's optimisation finds a change to an espresso (PSNR about 44 dB, invisible) that "
        "SqueezeNet reads as consommé.",
        "/attack?model=imagenet-squeezenet&image=sample:coffee&attack=cw&steps=50&search_steps=1&run=1",
    ),
    Preset(
        "cat-to-iguana",
        "The cat that became an iguana",
        "Targeted PGD moves every pixel of Chelsea the cat by at most 0.01 and SqueezeNet sees a common "
        "iguana, seed 004's example.",
        "/attack?model=imagenet-squeezenet&image=sample:chelsea&attack=pgd&target=39&eps=0.01&alpha=0.002"
        "&steps=10&run=1",
    ),
    Preset(
        "transfer",
        "Transfer: fooling a model you never saw",
        "Examples crafted on the MLP also fool the CNN, which the attacker never looked inside: the black-box "
        "attack of seed 004.",
        "/experiments/transfer",
        needs=("experiment:transfer",),
    ),
    Preset(
        "robust-model",
        "The adversarially trained model resists",
        "A PGD digit at ε = 0.3 fools mnist-cnn, while mnist-cnn-robust, trained on such examples, still "
        "reads it right.",
        "/defenses?image=sample:mnist-00003&craft=pgd&eps=0.3",
        needs=("mnist-cnn-robust", "mnist-detector"),
    ),
    Preset(
        "adaptive-attack",
        "The detector, and the attack that knows about it",
        "The detector flags ordinary attacks; an adaptive PGD that attacks the classifier and the detector "
        "together gets past both.",
        "/defenses?image=sample:mnist-00003&craft=adaptive&eps=0.3",
        needs=("mnist-cnn-robust", "mnist-detector"),
    ),
    Preset(
        "shortcut",
        "Shortcut learning: reading the hint, not the digit",
        "An MLP trained on digits that carry a class hint learns the hint: near 100% in training, far less "
        "on clean test digits (seed 000).",
        "/experiments/shortcut",
        needs=("experiment:shortcut",),
    ),
    Preset(
        "gan-saturating",
        "Training a GAN: the saturating cost stalls, the non-saturating one learns",
        "D ahead (k = 3, learning rate 100× G's), seed 0, 300 steps: with log(1 − D(G(z))) ‖∇G‖ sinks to 1e-4 "
        "and the samples stay put; with −log D(G(z)) it stays near 10 and they reach the ring.",
        "/gan/lab/compare?data=ring&k=3&lr_g=0.0001&lr_d=0.01&seed=0&steps=300",
    ),
    Preset(
        "latent-arithmetic",
        "Latent arithmetic: glasses on a face",
        "Man with glasses − man without + woman without: averaging three latents per group, the generator "
        "draws a woman with glasses.",
        "/gan/fill?model=dcgan-faces&seed_example=true#arith-heading",
        needs=("dcgan-faces",),
    ),
)


def preset(k: int) -> Preset | None:
    """Demo k of the sequence (counted from 1), or None when there is no such demo."""
    return PRESETS[k - 1] if 1 <= k <= len(PRESETS) else None
