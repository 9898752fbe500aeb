"""Cold start to a healthy /healthz, and classify latency end to end against the bare model forward.

Run with `make bench` (or `.venv/bin/python benchmarks/startup_classify.py [--requests N]`).
Both sides are measured in this one run on this machine, so the ratios compare like with like:

* cold start: a fresh `uvicorn app.main:app` process until /healthz answers 200;
* end to end: POST /api/v1/classify over real HTTP (decode the gallery image, preprocess, forward,
  top-k, store the model input as PNG, JSON) — median and 95th percentile of N sequential requests;
* bare forward: the same model called in this process on the same preprocessed tensor.
"""

from __future__ import annotations

import argparse
import os
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

from app.config import Settings
from app.media import imaging
from app.media.gallery import Gallery
from app.zoo import Zoo
from app.zoo.inference import predict

CASES = [
    ("mnist-mlp", "mnist-00000"),
    ("mnist-cnn", "mnist-00000"),
    ("fashion-cnn", "mnist-00000"),
    ("imagenet-squeezenet", "chelsea"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="classify requests per model")
    args = parser.parse_args()

    with Server() as server:
        os.environ.update(server.env)  # the same models and weights in this process
        settings = Settings()
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        zoo = Zoo.load(settings)
        print(
            f"cold start to healthy /healthz: {server.cold_start_s:.2f} s  (torch {torch.__version__}, "
            f"{torch.get_num_threads()} CPU threads, device {zoo.device})"
        )
        gallery = Gallery(settings.gallery_dir)
        print(f"\n{'model':22} {'e2e median':>11} {'e2e p95':>9} {'forward':>9} {'e2e / forward':>14}")
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for name, sample in CASES:
                entry = zoo.entries[name]
                if not entry.available:
                    print(f"{name:22} unavailable: {entry.reason}")
                    continue
                e2e = _time_requests(client, name, f"sample:{sample}", args.requests)
                forward = _time_forward(zoo, name, gallery.image(sample), args.requests)
                print(
                    f"{name:22} {_ms(statistics.median(e2e)):>11} {_ms(_p95(e2e)):>9} "
                    f"{_ms(statistics.median(forward)):>9} "
                    f"{statistics.median(e2e) / statistics.median(forward):>13.1f}x"
                )


def _time_requests(client: httpx.Client, model: str, image: str, n: int) -> list[float]:
    body = {"model": model, "image": image}
    client.post("/api/v1/classify", json=body).raise_for_status()  # warm-up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        client.post("/api/v1/classify", json=body).raise_for_status()
        times.append(time.perf_counter() - t)
    return times


def _time_forward(zoo: Zoo, name: str, im, n: int) -> list[float]:
    entry, model = zoo.model(name)
    x = imaging.image_to_tensor(imaging.prepare(im, entry.spec.preprocess, entry.spec.input_shape))[None]
    predict(model, x, zoo.device)  # warm-up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        predict(model, x, zoo.device)
        if zoo.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return times


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


if __name__ == "__main__":
    main()
