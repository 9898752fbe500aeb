"""Our attacks against torchattacks on the same model and batches, and one FGSM request over HTTP
against the bare forward+backward, all measured in this one run.

Run with `make bench-attacks` (installs the `bench` extra, torchattacks), or
`.venv/bin/python benchmarks/attacks.py [--repeats N]`.

* FGSM, PGD-10 (L∞, ε = 0.3, α = 0.03, random start) and C&W (c = 1, κ = 0, 50 Adam steps at
  lr 0.01, one round: torchattacks' C&W has no binary search) on mnist-cnn, batches 1, 64, 256 of
  MNIST test images. Both sides produce the adversarial batch only (ours: ``Attack.perturb``; the
  API's extras, before/after probabilities, norms and trajectory, are in the HTTP figure below).
  Median wall time of N repeats each; ratio = ours / theirs (< 1: ours faster).
* End to end: POST /api/v1/attacks/fgsm for one gallery digit over real HTTP (decode, preprocess,
  attack, store four PNGs, JSON) against the bare forward+backward of the same 28x28 input.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from server import Server

from app.attacks import ATTACKS, Goal
from app.config import Settings
from app.media import data, imaging
from app.media.gallery import Gallery
from app.zoo import Zoo

BATCHES = [1, 64, 256]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    try:
        import torchattacks
    except ImportError:
        raise SystemExit("torchattacks is missing: pip install -e '.[bench]' (or make bench-attacks)") from None
    settings = Settings()
    zoo = Zoo.load(settings, only={"mnist-cnn"})
    model = zoo.model("mnist-cnn")[1]
    x_all, y_all = data.load_split("mnist", settings.data_dir, train=False)
    print(
        f"mnist-cnn, torch {torch.__version__}, torchattacks {torchattacks.__version__}, {zoo.device}, "
        f"{torch.get_num_threads()} threads, median of {args.repeats}\n"
    )
    print(f"{'attack':8} {'batch':>5} {'ours':>10} {'torchattacks':>13} {'ours/theirs':>12}")
    for label, ours, theirs in cases(torchattacks, model):
        for n in BATCHES:
            x, y = x_all[:n].to(zoo.device), y_all[:n].to(zoo.device)
            t_ours = timed(lambda: ours(x, y), args.repeats, zoo.device)
            t_theirs = timed(lambda: theirs(x, y), args.repeats, zoo.device)
            print(f"{label:8} {n:5d} {ms(t_ours):>10} {ms(t_theirs):>13} {t_ours / t_theirs:12.2f}", flush=True)
    end_to_end(settings, model, zoo.device, args.requests)


def cases(torchattacks, model):
    """(label, ours(x, y), theirs(x, y)) with the same settings on both sides."""

    def ours(name, **params):
        """The attack itself, as torchattacks returns it: adversarial images, nothing else."""
        attack, p = ATTACKS[name], ATTACKS[name].Params(**params)
        return lambda x, y: attack.perturb(model, x, Goal(y), p, torch.Generator().manual_seed(0), None)

    return [
        ("FGSM", ours("fgsm", eps=0.3), torchattacks.FGSM(model, eps=0.3)),
        ("PGD-10", ours("pgd", eps=0.3, alpha=0.03, steps=10), torchattacks.PGD(model, eps=0.3, alpha=0.03, steps=10)),
        (
            "C&W",
            ours("cw", c=1.0, kappa=0.0, steps=50, lr=0.01, search_steps=1),
            torchattacks.CW(model, c=1, kappa=0, steps=50, lr=0.01),
        ),
    ]


def timed(fn, repeats: int, device: torch.device) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def end_to_end(settings: Settings, model, device: torch.device, n: int) -> None:
    x = imaging.image_to_tensor(Gallery(settings.gallery_dir).image("mnist-00003").convert("L"))[None].to(device)
    y = torch.tensor([0], device=device)

    def forward_backward():
        xr = x.clone().requires_grad_(True)
        torch.nn.functional.cross_entropy(model(xr), y).backward()

    bare = [timed(forward_backward, 1, device) for _ in range(n)]
    with Server() as server, httpx.Client(base_url=server.url, timeout=60) as client:
        body = {"model": "mnist-cnn", "image": "sample:mnist-00003", "params": {"eps": 0.2}}
        client.post("/api/v1/attacks/fgsm", json=body).raise_for_status()
        http = []
        for i in range(n):
            body["params"]["eps"] = 0.1 + i / (10 * n)  # a slider moving: every request is new work
            t = time.perf_counter()
            client.post("/api/v1/attacks/fgsm", json=body).raise_for_status()
            http.append(time.perf_counter() - t)
    p50_http, p50_bare = statistics.median(http), statistics.median(bare)
    print(
        f"\nFGSM over HTTP, one 28x28 digit: p50 {ms(p50_http)}, p95 {ms(statistics.quantiles(http, n=20)[-1])}; "
        f"bare forward+backward p50 {ms(p50_bare)}; ratio {p50_http / p50_bare:.1f}x"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


if __name__ == "__main__":
    main()
