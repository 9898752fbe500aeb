"""Why the model thread is the only one computing on several CPU threads (see app/runtime/executor.py).

A digit's forward+backward on mnist-cnn, run on a worker thread the way the executor runs it,
in two fresh processes: (a) the worker is the only thread that ever computed in parallel; (b)
another thread computed in parallel first, so the process holds two OpenMP teams, more threads
than this machine has cores. Median of N calls each; ratio = b / a.

Run with `.venv/bin/python benchmarks/threads.py [--calls N]`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(second_team: bool, calls: int) -> None:
    sys.path.insert(0, str(ROOT))
    import torch

    from app.config import Settings  # first, as in the server: app/__init__.py sets OpenMP's spin
    from app.zoo import Zoo

    if second_team:  # as the server did when it loaded its models on the main thread
        torch.rand(512, 512) @ torch.rand(512, 512)
    result: list[float] = []

    def worker() -> None:
        model = Zoo.load(Settings(), only={"mnist-cnn"}).model("mnist-cnn")[1]
        x, y = torch.rand(1, 1, 28, 28), torch.tensor([0])

        def forward_backward() -> None:
            xr = x.clone().requires_grad_(True)
            torch.nn.functional.cross_entropy(model(xr), y).backward()

        for _ in range(20):
            forward_backward()
        times = []
        for _ in range(calls):
            t = time.perf_counter()
            forward_backward()
            times.append(time.perf_counter() - t)
        result.append(statistics.median(times))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    print(result[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--child", choices=["alone", "beside"])
    args = parser.parse_args()
    if args.child:
        child(args.child == "beside", args.calls)
        return
    import torch

    def run(kind: str) -> float:
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--calls", str(args.calls)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return float(out.stdout.strip().splitlines()[-1])

    alone, beside = run("alone"), run("beside")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.calls} calls")
    print(f"(a) worker thread alone:             {alone * 1000:.2f} ms")
    print(f"(b) beside another thread's team:    {beside * 1000:.2f} ms")
    print(f"ratio b/a {beside / alone:.2f}")


if __name__ == "__main__":
    main()
