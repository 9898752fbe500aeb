"""The lecture's latent arithmetic on dcgan-faces, over many random exemplar draws.

    .venv/bin/python benchmarks/gan_lecture_example.py [--draws 50] [--per-group 3] [--name dcgan-faces]

Each draw picks ``per-group`` random pool samples for each group: A = men with glasses, B = men
without, C = women without (each a pool sample whose attribute classifier says so with p > --sure,
default 0.5, or p < 1 - sure for an attribute it lacks), and
decodes mean(A) − mean(B) + mean(C). Prints the share of results the classifier calls Eyeglasses
and not Male (the lecture's claim), and each attribute's mean probability. Also: how far a concept
edit moves its attribute at the studio's default strength, on the samples that do not show it yet
(the studio proposes only such a concept), and whether D's verdict stays within the range of real faces.

ADVLAB_MODELS_DIR=var/runs/LABEL measures a run written with ``advlab train dcgan-faces --out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings
from app.gan import faces, latent, studio
from app.gan.zoo import Generators


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=50)
    parser.add_argument("--per-group", type=int, default=3)
    parser.add_argument("--strength", type=float, default=1.5, help="the studio's default concept strength")
    parser.add_argument("--name", default="dcgan-faces", help="a face generator with an attribute classifier")
    parser.add_argument("--sure", type=float, default=0.5, help="how sure the classifier must be of an exemplar")
    args = parser.parse_args()
    settings = Settings()
    device = torch.device("cpu")
    entry = Generators.load(settings, device, only={args.name}).get(args.name)
    pool = studio.build_pool(entry, None, device)
    names = entry.spec.attributes.names if entry.spec.attributes else []
    male, glasses = names.index("Male"), names.index("Eyeglasses")
    has, lacks = pool.probs > args.sure, pool.probs < 1 - args.sure
    groups = {
        "A": has[:, male] & has[:, glasses],
        "B": has[:, male] & lacks[:, glasses],
        "C": lacks[:, male] & lacks[:, glasses],
    }
    print(
        f"{args.name}: pool of {len(pool.z)}: " + ", ".join(f"{g} {int(m.sum())} candidates" for g, m in groups.items())
    )
    gen = torch.Generator().manual_seed(0)
    results = []
    for _ in range(args.draws):
        picked = []
        for mask in groups.values():
            idx = mask.nonzero()[:, 0]
            picked.append(pool.z[idx[torch.randperm(len(idx), generator=gen)[: args.per_group]]])
        results.append(latent.arithmetic(*picked))
    decoded = studio.decode(entry, None, torch.stack(results), device)
    hits = (decoded.probs[:, glasses] > 0.5) & (decoded.probs[:, male] <= 0.5)
    print(
        f"glasses man - man + woman, {args.draws} draws of {args.per_group} per group (exemplars p > {args.sure}): "
        f"{hits.float().mean():.0%} judged Eyeglasses and not Male (target >= 80%); mean p(Eyeglasses) "
        f"{decoded.probs[:, glasses].mean():.2f}, mean p(Male) {decoded.probs[:, male].mean():.2f}"
    )
    concept_edits(entry, pool, names, args.strength, device)


def concept_edits(entry, pool, names: list[str], strength: float, device: torch.device) -> None:
    """Of 200 samples, those that do not show the attribute (p < 0.5): the share whose attribute
    moves by >= 0.4 at the default strength, and the share whose edit D still scores inside the
    range it gives real held-out faces (its 5th to 95th percentile)."""
    real = faces.load_faces(Settings().data_dir)[0][-faces.HELD_OUT :].float().div(255)
    with torch.inference_mode():
        d_real = torch.sigmoid(entry.loaded_discriminator(real.to(device))).cpu()
    low, high = torch.quantile(d_real, 0.05), torch.quantile(d_real, 0.95)
    z = latent.latents(7, range(200), entry.loaded_generator.cfg.nz)
    before = studio.decode(entry, None, z, device)
    unedited = ((before.real >= low) & (before.real <= high)).float().mean()
    print(f"unedited samples: D within real faces' 5-95% range [{low:.2f}, {high:.2f}] on {unedited:.0%} of 200")
    for name in ("Smiling", "Eyeglasses", "Male"):
        c = names.index(name)
        direction = pool.z[pool.members(c)].mean(0) - pool.z[~pool.members(c)].mean(0)
        after = studio.decode(entry, None, z + strength * direction, device)
        lacking = before.probs[:, c] < 0.5
        moved = ((after.probs[:, c] - before.probs[:, c]) >= 0.4)[lacking]
        inside = ((after.real >= low) & (after.real <= high))[lacking]
        print(
            f"+{name} at strength {strength}: p moves by >= 0.4 on {moved.float().mean():.0%} of the "
            f"{int(lacking.sum())} of 200 samples without it (target >= 80%); D within real faces' 5-95% range "
            f"[{low:.2f}, {high:.2f}] on {inside.float().mean():.0%}"
        )


if __name__ == "__main__":
    main()
