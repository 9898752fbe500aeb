"""How well the attacks work on a zoo model: success rates, median norms, and FGSM's accuracy-vs-ε.

Run with `make attack-eval` (or `.venv/bin/python benchmarks/attack_success.py [--images N]`).
Uses the first N MNIST test images (default 1000) against mnist-cnn with each attack's defaults
(PGD at ε = 0.3 with 40 steps); targeted runs aim at a random other class per image (seeded).
Success counts images where the attack reached its goal; "saved" is the share of those successes
whose 8-bit PNG still reaches it (norms are the PNG's); clean accuracy is reported alongside.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.attacks import ATTACKS
from app.attacks.run import run_attack
from app.config import Settings
from app.media import data
from app.zoo import Zoo

# The goals the published table uses; every other attack of the registry follows, untargeted where it
# can be (FGSM has its own table; an attack grown from noise has no image to start from).
CHOSEN = [
    ("pgd", False),
    ("pgd", True),
    ("cw", False),
    ("deepfool", False),
    ("jsma", True),
    ("mifgsm", False),
    ("proximity", True),
]
RUNS = CHOSEN + [
    (a.name, not a.supports_untargeted)
    for a in ATTACKS.values()
    if a.name not in {n for n, _ in CHOSEN} | {"fgsm"} and not a.starts_from_noise
]
FGSM_EPS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--model", default="mnist-cnn")
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--only", help="comma-separated attack names (default: all runs)")
    parser.add_argument(
        "--no-final-step",
        action="store_true",
        help="DeepFool and C&W without their final 8-bit step (survive_saving off)",
    )
    args = parser.parse_args()
    settings = Settings()
    zoo = Zoo.load(settings, only={args.model})
    model = zoo.model(args.model)[1]
    x, y = data.load_split(zoo.entries[args.model].spec.dataset, settings.data_dir, train=False)
    x, y = x[: args.images], y[: args.images]
    targets = (y + torch.randint(1, 10, y.shape, generator=torch.Generator().manual_seed(0))) % 10
    print(f"{args.model} on the first {len(y)} test images, torch {torch.__version__}, {zoo.device}\n")
    fgsm_table(model, x, y, args.batch, zoo.device)
    print(
        f"\n{'attack':12} {'goal':10} {'success':>8} {'saved':>8} {'median L2':>10} {'median L∞':>10} "
        f"{'median L0':>10} {'seconds':>8}"
    )
    only = set(args.only.split(",")) if args.only else None
    for name, targeted in RUNS:
        if only is None or name in only:
            report(
                name,
                targeted,
                model,
                x,
                y,
                targets if targeted else None,
                args.batch,
                zoo.device,
                final_step=not args.no_final_step,
            )


def fgsm_table(model, x, y, batch, device) -> None:
    print("FGSM: accuracy under attack")
    print(f"{'eps':>6} {'accuracy':>9}")
    attack = ATTACKS["fgsm"]
    for eps in FGSM_EPS:
        correct = 0
        for i in range(0, len(y), batch):
            xb, yb = x[i : i + batch].to(device), y[i : i + batch].to(device)
            out = run_attack(attack, model, xb, yb, None, attack.Params(eps=eps), trace=False)
            correct += int((out.probs_after.argmax(1) == yb.cpu()).sum())
        print(f"{eps:6.2f} {correct / len(y):9.2%}")


def report(name, targeted, model, x, y, targets, batch, device, final_step: bool = True) -> None:
    attack = ATTACKS[name]
    params = attack.Params(
        **({} if final_step or "survive_saving" not in attack.Params.model_fields else {"survive_saving": False})
    )
    started = time.perf_counter()
    success, saved, dist = [], [], {"l2": [], "linf": [], "l0": []}
    for i in range(0, len(y), batch):
        yb = y[i : i + batch]
        tb = None if targets is None else targets[i : i + batch]
        out = run_attack(
            attack,
            model,
            x[i : i + batch].to(device),
            yb.to(device),
            None if tb is None else tb.to(device),
            params,
            seed=i,
            trace=False,
        )
        success.append(out.success)
        pred = out.probs_saved.argmax(1)
        saved.append(out.success & (pred != yb if tb is None else pred == tb))
        for k in dist:
            dist[k].append(out.distances[k])
    ok, kept = torch.cat(success), torch.cat(saved)
    med = {k: torch.cat(v)[ok].median().item() if ok.any() else float("nan") for k, v in dist.items()}
    goal = "targeted" if targeted else "untargeted"
    survive = kept.sum().item() / max(1, ok.sum().item())
    print(
        f"{name:12} {goal:10} {ok.float().mean().item():8.2%} {survive:8.2%} {med['l2']:10.3f} {med['linf']:10.3f} "
        f"{med['l0']:10.0f} {time.perf_counter() - started:8.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
