"""Our APGD-CE + APGD-T (app/defenses/autoattack.py) against torchattacks' APGD and APGDT on the
same model and images: the robust accuracy each leaves, measured in this one run.

Run with `make bench-autoattack` (installs torchattacks beside the `bench` extra), or
`.venv/bin/python benchmarks/autoattack_reference.py [--images N] [--model NAME]`. Default: the
first 1,000 MNIST test images against mnist-cnn-robust at ε = 0.3, 100 steps, 9 target classes.
A GPU makes it take seconds; on two CPU cores it takes most of an hour.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings
from app.defenses.autoattack import TARGETS, autoattack
from app.media import data
from app.zoo import Zoo


def theirs(model, x, y, eps: float, steps: int, batch: int, device) -> tuple[float, float]:
    """Robust accuracy after torchattacks' APGD-CE, then after its APGD-T on what still stands."""
    import torchattacks

    ce = torchattacks.APGD(model, norm="Linf", eps=eps, steps=steps, loss="ce", seed=0)
    targeted = torchattacks.APGDT(model, norm="Linf", eps=eps, steps=steps, seed=0, n_classes=10)
    after_ce, after_t = [], []
    for xb, yb in zip(x.split(batch), y.split(batch)):
        xb, yb = xb.to(device), yb.to(device)
        with torch.no_grad():
            ok = model(xb).argmax(1) == yb
            ok &= model(ce(xb, yb)).argmax(1) == yb
        after_ce.append(ok.clone())
        if ok.any():
            with torch.no_grad():
                ok[ok.clone()] = model(targeted(xb[ok], yb[ok])).argmax(1) == yb[ok]
        after_t.append(ok)
    return float(torch.cat(after_ce).float().mean()), float(torch.cat(after_t).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--model", default="mnist-cnn-robust")
    parser.add_argument("--eps", type=float, default=0.3)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    settings = Settings()
    zoo = Zoo.load(settings, only={args.model})
    model = zoo.model(args.model)[1]
    x, y = data.load_split(zoo.entries[args.model].spec.dataset, settings.data_dir, train=False)
    x, y = x[: args.images], y[: args.images]
    print(
        f"{args.model}, first {len(y)} test images, ε = {args.eps}, {args.steps} steps, {TARGETS} targets, "
        f"torch {torch.__version__}, {zoo.device}"
    )
    started = time.perf_counter()
    ours = autoattack(model, x, y, args.eps, steps=args.steps, batch=args.batch, device=zoo.device)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    ref_ce, ref_t = theirs(model, x, y, args.eps, args.steps, args.batch, zoo.device)
    ref_s = time.perf_counter() - started
    print(f"{'':14} {'APGD-CE':>8} {'+ APGD-T':>9} {'seconds':>8}")
    print(f"{'ours':14} {ours.after_ce:8.2%} {ours.after_t:9.2%} {ours_s:8.1f}")
    print(f"{'torchattacks':14} {ref_ce:8.2%} {ref_t:9.2%} {ref_s:8.1f}")
    print(f"difference (ours - theirs): {100 * (ours.after_t - ref_t):+.2f} points after both")


if __name__ == "__main__":
    main()
