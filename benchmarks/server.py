"""A real uvicorn serving AdvLab on a free port of 127.0.0.1, for the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SQUEEZENET = ROOT.parent / "shared" / "weights" / "squeezenet1_1_caffe_imagenetnorm.pth"


def bench_env(**settings: str) -> dict[str, str]:
    """The environment a benchmark server runs with: no downloads, a fresh image store, the local
    ImageNet weights when they are there, and any ADVLAB_ settings given (e.g. BATCHING="0")."""
    env = {
        **os.environ,
        "ADVLAB_ALLOW_DOWNLOADS": "0",
        "ADVLAB_IMAGE_STORE_DIR": tempfile.mkdtemp(prefix="advlab-bench-"),
    }
    if SQUEEZENET.exists() and "ADVLAB_LOCAL_WEIGHTS" not in env:
        env["ADVLAB_LOCAL_WEIGHTS"] = f"imagenet-squeezenet={SQUEEZENET}"
    env.update({f"ADVLAB_{k.upper()}": v for k, v in settings.items()})
    return env


class Server:
    """``with Server(BATCHING="0") as s:`` starts uvicorn, waits for /healthz, and stops it after."""

    def __init__(self, **settings: str) -> None:
        self.env = bench_env(**settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cold_start_s = 0.0

    def __enter__(self) -> Server:
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        self.cold_start_s = wait_healthy(self.url, self.proc, started)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def rss_mib(self) -> float:
        """The server process's resident memory."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def wait_healthy(url: str, proc: subprocess.Popen, started: float, timeout: float = 300) -> float:
    """Seconds from ``started`` until /healthz answers 200."""
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit("the server did not become healthy")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
