"""GAN studio and training lab speed, measured in one run:

* a grid of 64 samples as the studio shows it, over real HTTP, against the bare generator forward
  of the same 64 latents in this process: time to images (POST /api/v1/generators/NAME/images: the
  forward pass, 64 PNGs stored, JSON; target <= 1.5x), then the judged grid (POST .../samples with
  the same body: discriminator score and labels of those images) and the two together;
* the live lab's training speed: generator steps per second of one session on each dataset,
  through the executor as the app runs it (GET /api/v1/gan-lab/sessions/ID after a few seconds).

Run with `make bench-gan` or `.venv/bin/python benchmarks/gan.py [--requests N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import Server

from app.config import Settings
from app.gan.latent import latents
from app.gan.zoo import Generators
from app.zoo.device import resolve_device


def grid_ratio(url: str, name: str, n: int) -> None:
    settings = Settings()
    g = Generators.load(settings, resolve_device(settings.device), only={name}).entries[name].generator
    z = latents(0, range(64), g.cfg.nz)
    with torch.inference_mode():  # as the server runs it
        g(z)
        bare = []
        for _ in range(n):
            t = time.perf_counter()
            g(z)
            bare.append(time.perf_counter() - t)
    to_images, judged, e2e = [], [], []
    with httpx.Client(base_url=url, timeout=120) as client:
        for seed in range(n + 1):  # a new seed each time: no request repeats another
            body = {"seed": seed, "count": 64}
            t = time.perf_counter()
            client.post(f"/api/v1/generators/{name}/images", json=body).raise_for_status()
            t_images = time.perf_counter()
            client.post(f"/api/v1/generators/{name}/samples", json=body).raise_for_status()
            to_images.append(t_images - t)
            judged.append(time.perf_counter() - t_images)
            e2e.append(time.perf_counter() - t)
    p50 = lambda xs: statistics.median(xs[1:])  # the first request warms up
    b = statistics.median(bare)
    print(
        f"{name:12} grid of 64: bare forward {b * 1000:6.1f} ms; time to images {p50(to_images) * 1000:7.1f} ms "
        f"(ratio {p50(to_images) / b:4.2f}x, target <= 1.5x); then judged {p50(judged) * 1000:7.1f} ms; "
        f"both {p50(e2e) * 1000:7.1f} ms ({p50(e2e) / b:4.2f}x)"
    )


def lab_speed(url: str, data: str, seconds: float) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        sid = client.post("/api/v1/gan-lab/sessions", json={"data": data}).json()["id"]
        client.post(f"/api/v1/gan-lab/sessions/{sid}/control", json={"action": "play"})
        start = client.get(f"/api/v1/gan-lab/sessions/{sid}").json()["steps"]
        t = time.perf_counter()
        while time.perf_counter() - t < seconds:
            time.sleep(1.0)  # the page polls about this often
            steps = client.get(f"/api/v1/gan-lab/sessions/{sid}").json()["steps"]
        rate = (steps - start) / (time.perf_counter() - t)
        client.delete(f"/api/v1/gan-lab/sessions/{sid}")
    print(f"lab {data:6}: {rate:7.1f} generator steps/s (one session, batch 128)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with Server() as server:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads here")
        for name in ("dcgan-mnist", "dcgan-faces"):
            grid_ratio(server.url, name, args.requests)
        for data in ("ring", "mnist"):
            lab_speed(server.url, data, args.seconds)


if __name__ == "__main__":
    main()
