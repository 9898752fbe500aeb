"""FGSM sweep end to end against its bare model work, for an MNIST digit and an ImageNet photo.

Run with `make bench-sweep` (or `.venv/bin/python benchmarks/sweep.py [--requests N]`). Both sides
are measured in this one run:

* end to end: POST /api/v1/attacks/fgsm/sweep over real HTTP on a server that keeps no sweeps
  (ADVLAB_RESULT_CACHE_ENTRIES=0, so every request computes), with the default grid of ε; sequential
  requests, median and 95th percentile. Each request also stores two PNGs and sends the per-ε
  predictions, norms and the 8-bit check as JSON;
* bare: the same work on the same model in this process: ``app.attacks.fgsm.sweep`` (one
  forward+backward, then batched forwards of the grid's adversarial images and their 8-bit copies);
* repeat: the same request on a server that keeps sweeps (the default), as a room of students asks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from server import Server

from app.attacks import Goal
from app.attacks.fgsm import sweep
from app.config import Settings
from app.media import imaging
from app.media.gallery import Gallery
from app.services import attacks as attack_service
from app.zoo import Zoo

CASES = [("mnist-cnn", "mnist-00003"), ("imagenet-squeezenet", "chelsea")]


def timed(fn, n: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return sorted(times)


def p(times: list[float], q: float) -> float:
    return times[min(len(times) - 1, int(len(times) * q))] * 1000


def bare(zoo: Zoo, name: str, image, n: int) -> list[float]:
    entry = zoo.entries[name]
    x = imaging.image_to_tensor(imaging.prepare(image, entry.spec.preprocess, entry.spec.input_shape))[None]
    label = torch.tensor([entry.model(x).argmax(1).item()])
    grid = attack_service.sweep_grid(entry)
    return timed(lambda: sweep(entry.model, x, Goal(label), grid), n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per case (ImageNet: a fifth)")
    args = parser.parse_args()
    rows = []
    with Server(RESULT_CACHE_ENTRIES="0") as server:
        os.environ.update(server.env)
        settings = Settings()
        zoo = Zoo.load(settings)
        gallery = Gallery(settings.gallery_dir)
        with httpx.Client(base_url=server.url, timeout=120) as client:
            for name, sample in CASES:
                if not zoo.entries[name].available:
                    print(f"{name}: unavailable ({zoo.entries[name].reason})")
                    continue
                n = args.requests if name.startswith("mnist") else max(3, args.requests // 5)
                body = {"model": name, "image": f"sample:{sample}"}
                e2e = timed(lambda: client.post("/api/v1/attacks/fgsm/sweep", json=body).raise_for_status(), n)
                work = bare(zoo, name, gallery.image(sample), n)
                rows.append((name, len(attack_service.sweep_grid(zoo.entries[name])), e2e, work))
    with Server(RESULT_CACHE_ENTRIES="1024") as server, httpx.Client(base_url=server.url, timeout=120) as client:
        repeat = timed(
            lambda: client.post(
                "/api/v1/attacks/fgsm/sweep", json={"model": "mnist-cnn", "image": "sample:mnist-00003"}
            ),
            args.requests,
        )
    print(f"{'model':22} {'ε values':>8} {'e2e p50':>9} {'e2e p95':>9} {'bare p50':>9} {'e2e / bare (p50)':>17}")
    for name, points, e2e, work in rows:
        print(
            f"{name:22} {points:8d} {p(e2e, 0.5):7.1f}ms {p(e2e, 0.95):7.1f}ms {p(work, 0.5):7.1f}ms "
            f"{p(e2e, 0.5) / p(work, 0.5):16.2f}x"
        )
    print(
        f"(target for the MNIST digit: e2e / bare <= 3 at p50)\n"
        f"repeat request, sweeps kept (mnist-cnn): p50 {p(repeat, 0.5):.1f} ms, p95 {p(repeat, 0.95):.1f} ms"
    )


if __name__ == "__main__":
    main()
