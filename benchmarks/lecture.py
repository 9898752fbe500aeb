"""A lecture hall: "everyone, open AdvLab and drag the slider". Load against a real uvicorn.

Two parts, each run with batching on and then off (ADVLAB_BATCHING=0), on fresh servers:

1. The lecture: --students simulated students (300) arrive over --ramp seconds and, for
   --duration seconds, each repeats: a page load, a slider drag, a targeted PGD run or a GAN grid,
   with a few seconds of thinking in between. A drag is what the attack lab's page sends: one FGSM
   sweep for the digit picked (POST /api/v1/attacks/fgsm/sweep), after which every slider position
   is drawn in the browser; with --old-slider, a burst of FGSM requests with a moving ε instead
   (the page before the sweep).
   Printed per endpoint: requests, throughput, p50/p95/p99 latency, 5xx and 503 (busy) answers;
   and the server's memory before and after.
2. The slider target: on a server that keeps no results (ADVLAB_RESULT_CACHE_ENTRIES=0, so every
   request reaches the model), --clients (64) connections sending MNIST FGSM requests back to back for
   --seconds (wrk, from Debian, with benchmarks/fgsm.lua: a C load generator takes little of the
   CPU the server needs; Python's httpx took as much CPU per request as the server did);
   throughput and p50/p99 with batching on and off, and their ratio.

Run with `make bench-lecture`, or `.venv/bin/python benchmarks/lecture.py --students 50 --duration 30`.
Client and server share this machine's cores, so the load generator takes some of the server's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import Server

DIGITS = [f"sample:mnist-{i:05d}" for i in (0, 1, 2, 3, 4, 7, 8, 11, 18, 61)]


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.codes: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    async def call(self, client: aiohttp.ClientSession, label: str, method: str, url: str, **kwargs) -> None:
        t = time.perf_counter()
        try:
            async with client.request(method, url, **kwargs) as r:
                await r.read()
                code = r.status
        except (aiohttp.ClientError, asyncio.TimeoutError):
            code = 599  # transport failure: counted with the server errors
        self.codes[label][code] += 1
        if code == 200:
            self.latency[label].append(time.perf_counter() - t)

    def table(self, seconds: float) -> str:
        rows = [f"{'endpoint':14} {'requests':>8} {'ok/s':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'5xx':>5} {'503':>5}"]
        for label in sorted(self.codes):
            codes, lat = self.codes[label], sorted(self.latency[label])
            total = sum(codes.values())
            errors = sum(n for c, n in codes.items() if c >= 500 and c != 503)
            rows.append(
                f"{label:14} {total:8d} {len(lat) / seconds:7.1f} {_pct(lat, 50):>8} {_pct(lat, 95):>8} "
                f"{_pct(lat, 99):>8} {errors:5d} {codes.get(503, 0):5d}"
            )
        return "\n".join(rows)


def _pct(values: list[float], p: int) -> str:
    if not values:
        return "-"
    return f"{values[min(len(values) - 1, int(len(values) * p / 100))] * 1000:.0f}ms"


async def student(
    client: aiohttp.ClientSession, stats: Stats, i: int, start_at: float, end_at: float, old_slider: bool = False
) -> None:
    rng = random.Random(i)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    while time.monotonic() < end_at:
        action = rng.choices(["page", "slider", "pgd", "gan"], weights=[25, 50, 15, 10])[0]
        digit = rng.choice(DIGITS)
        if action == "page":
            path = rng.choice(["/", "/attack", f"/attack?image={digit}", "/gan", "/linear"])
            await stats.call(client, "page", "GET", path)
        elif action == "slider" and not old_slider:
            body = {"model": "mnist-cnn", "image": digit}
            await stats.call(client, "sweep", "POST", "/api/v1/attacks/fgsm/sweep", json=body)
            await asyncio.sleep(rng.uniform(1.0, 2.0))  # dragging: drawn in the browser, no requests
        elif action == "slider":
            eps = rng.uniform(0.0, 0.3)
            for _ in range(rng.randint(3, 8)):  # a drag: a request every ~150 ms as the thumb moves
                eps = min(0.5, max(0.0, eps + rng.uniform(-0.03, 0.05)))
                body = {"model": "mnist-cnn", "image": digit, "params": {"eps": round(eps, 3)}}
                await stats.call(client, "fgsm", "POST", "/api/v1/attacks/fgsm", json=body)
                await asyncio.sleep(0.15)
        elif action == "pgd":
            body = {"model": "mnist-cnn", "image": digit, "target": rng.randrange(10), "params": {"steps": 20}}
            await stats.call(client, "pgd", "POST", "/api/v1/attacks/pgd", json=body)
        else:
            body = {"seed": rng.randrange(1000), "count": 16}
            await stats.call(client, "gan-grid", "POST", "/api/v1/generators/dcgan-mnist/samples", json=body)
        await asyncio.sleep(rng.uniform(1.0, 4.0))  # reading, thinking


async def lecture(url: str, students: int, ramp: float, duration: float, old_slider: bool = False) -> Stats:
    stats = Stats()
    connector = aiohttp.TCPConnector(limit=students + 10)  # aiohttp: a fraction of httpx's CPU per request
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:
        now = time.monotonic()
        await asyncio.gather(
            *(
                student(client, stats, i, now + ramp * i / students, now + ramp + duration, old_slider)
                for i in range(students)
            )
        )
    return stats


def wrk_slider(url: str, clients: int, seconds: float) -> dict[str, str]:
    """wrk's figures for the FGSM slider load: requests/s, p50, p99, non-2xx answers."""
    script = str(Path(__file__).resolve().parent / "fgsm.lua")
    run = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency", "-s", script, url]
    subprocess.run(run[:3] + ["-d3s", "-s", script, url], capture_output=True, check=True)  # warm-up
    _drain(url)
    out = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    found = {
        "rps": re.search(r"Requests/sec:\s+([\d.]+)", out),
        "p50": re.search(r"50%\s+(\S+)", out),
        "p99": re.search(r"99%\s+(\S+)", out),
        "non2xx": re.search(r"Non-2xx or 3xx responses: (\d+)", out),
    }
    return {k: (m.group(1) if m else "0") for k, m in found.items()}


def _drain(url: str, timeout: float = 60) -> None:
    """Wait until the requests the warm-up left behind are done (they still hold queue places)."""
    deadline = time.monotonic() + timeout
    while httpx.get(url + "/healthz").json()["queue"] and time.monotonic() < deadline:
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--ramp", type=float, default=30.0)
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--skip-lecture", action="store_true")
    parser.add_argument("--skip-wrk", action="store_true", help="only the lecture")
    parser.add_argument("--old-slider", action="store_true", help="drags send FGSM requests, not one sweep")
    parser.add_argument("--batching", choices=["both", "on", "off"], default="both")
    parser.add_argument(
        "--keep-no-results",
        action="store_true",
        help="the lecture on a server that keeps no results (ADVLAB_RESULT_CACHE_ENTRIES=0)",
    )
    args = parser.parse_args()
    slider = {}
    for batching in {"both": ("1", "0"), "on": ("1",), "off": ("0",)}[args.batching]:
        name = "batching on" if batching == "1" else "batching off"
        if not args.skip_lecture:
            kept = {"RESULT_CACHE_ENTRIES": "0"} if args.keep_no_results else {}
            with Server(BATCHING=batching, **kept) as server:
                before = server.rss_mib()
                stats = asyncio.run(lecture(server.url, args.students, args.ramp, args.duration, args.old_slider))
                health = httpx.get(server.url + "/healthz").json()
                print(
                    f"\n== lecture, {name}: {args.students} students over {args.ramp:g} s, then {args.duration:g} s"
                    f"{' (old slider: FGSM per move)' if args.old_slider else ''}"
                    f"{' (no results kept)' if args.keep_no_results else ''} =="
                )
                print(stats.table(args.ramp + args.duration))
                print(
                    f"server memory: {before:.0f} MiB before, {server.rss_mib():.0f} MiB after; "
                    f"executor {health['executor']}; results kept {health.get('results')}"
                )
        if args.skip_wrk:
            continue
        # The model path itself: no results kept, so every FGSM request is computed (and batched).
        with Server(BATCHING=batching, RESULT_CACHE_ENTRIES="0") as server:
            slider[name] = wrk_slider(server.url, args.clients, args.seconds)
            stats = httpx.get(server.url + "/healthz").json()["executor"]
            print(
                f"\n== slider, {name}: {args.clients} connections, {args.seconds:g} s (wrk, no results kept): "
                f"{slider[name]['rps']} FGSM/s, p50 {slider[name]['p50']}, p99 {slider[name]['p99']}, "
                f"non-2xx {slider[name]['non2xx']}; executor {stats}"
            )
    if len(slider) < 2:
        return
    on, off = slider["batching on"], slider["batching off"]
    print(
        f"\nFGSM throughput, batching on / off: {float(on['rps']) / float(off['rps']):.2f}x (target >= 3x); "
        f"p99 with batching {on['p99']} (target <= 1 s)"
    )


if __name__ == "__main__":
    main()
