"""The ``advlab`` command: serve, train, eval, data, gallery."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from app.config import Settings

AUTOATTACK_IMAGES = 1000  # --autoattack's default: the first 1,000 test images (minutes on a CPU)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args, Settings())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="advlab", description="AdvLab: adversarial examples and GANs.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the web app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--ray", action="store_true", help="serve through Ray Serve (replicas, autoscaling)")
    p.add_argument("--ray-address", help="join this Ray cluster (e.g. ray://head:10001) instead of starting one")
    p.set_defaults(run=_serve)

    p = sub.add_parser("train", help="train a zoo model and record it in models/manifest.json")
    p.add_argument("name", help="model name, e.g. mnist-cnn")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", action="store_true", help="a few batches, written to a temporary folder")
    p.add_argument("--out", type=Path, help="write weights (and their own manifest.json) here instead of models/")
    p.add_argument("--epochs", type=int, help="train this many epochs in all instead of the recipe's")
    p.add_argument(
        "--resume",
        nargs="?",
        const="last",
        metavar="PATH",
        help="GANs, CycleGAN: go on from a checkpoint (default: this model's last one, var/train/NAME/checkpoint.pt)",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="GANs, CycleGAN: stop after the epoch during which this much training time passed (epochs done recorded)",
    )
    p.add_argument(
        "--set",
        action="append",
        dest="overrides",
        metavar="KEY=VALUE",
        help="GANs: change one recipe or network setting for this run (recorded in the manifest)",
    )
    p.set_defaults(run=_train)

    p = sub.add_parser("eval", help="re-measure a zoo model's test accuracy (a GAN's or an upscaler's figures)")
    p.add_argument("name")
    p.add_argument("--limit", type=int, default=0, help="only the first N test images (0: all)")
    p.add_argument("--robust", action="store_true", help="also accuracy under FGSM, PGD-40 and PGD-100 x 5 at eps 0.3")
    p.add_argument(
        "--autoattack",
        action="store_true",
        help="also APGD-CE + APGD-T at eps 0.3, beside PGD-100 x 5 on the same images "
        f"(the first {AUTOATTACK_IMAGES} unless --limit says otherwise)",
    )
    p.add_argument(
        "--record",
        action="store_true",
        help="write the --robust / --autoattack figures (a GAN's or an upscaler's figures) into models/manifest.json",
    )
    p.set_defaults(run=_eval)

    p = sub.add_parser("experiment", help="run an experiment and ship its result in models/experiments/")
    p.add_argument("name", help="robustness, transfer or shortcut")
    p.add_argument("--quick", action="store_true", help="tiny parameters, written to a temporary folder (CI runs this)")
    p.add_argument("--out", type=Path, help="write the result here instead of models/experiments/")
    p.set_defaults(run=_experiment)

    p = sub.add_parser("data", help="put MNIST and Fashion-MNIST into the data dir")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--from", dest="source", type=Path, help="folder with mnist/ and fashion-mnist/ *.gz")
    group.add_argument("--download", action="store_true", help="download through torchvision")
    p.add_argument("--celeba", action="store_true", help="with --download: also CelebA (1.4 GB, for dcgan-faces)")
    p.set_defaults(run=_data)

    p = sub.add_parser("gallery", help="rebuild gallery/ from the MNIST test set and a photo folder")
    p.add_argument("--photos", type=Path, help="folder with the sample photos and LICENSES.md")
    p.add_argument("--per-class", type=int, default=10)
    p.set_defaults(run=_gallery)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.ray:
        from app.serve_ray import run

        run(args.host, args.port, args.ray_address)
        return 0
    import uvicorn

    from app.web.slow_clients import deadline_protocol

    http = deadline_protocol(settings.header_timeout_s, settings.body_timeout_s)
    uvicorn.run("app.main:app", host=args.host, port=args.port, http=http)
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from app.training import RESUMABLE, TRAINERS, WITH_EPOCHS, WITH_OVERRIDES, WITH_TIME_LIMIT, checkpoint_path
    from app.training.gans import RECIPES, with_overrides

    if args.name not in TRAINERS:
        print(f"unknown model {args.name!r}; trainable: {', '.join(TRAINERS)}", file=sys.stderr)
        return 2
    for dest, flag, allowed in (
        ("epochs", "epochs", WITH_EPOCHS),
        ("resume", "resume", RESUMABLE),
        ("overrides", "set", WITH_OVERRIDES),
        ("time_limit", "time-limit", WITH_TIME_LIMIT),
    ):
        if getattr(args, dest) is not None and args.name not in allowed:
            print(f"--{flag} works for {', '.join(sorted(allowed))}, not {args.name}", file=sys.stderr)
            return 2
    out = args.out or (Path(tempfile.mkdtemp(prefix="advlab-dry-")) if args.dry_run else settings.models_dir)
    options: dict = {key: getattr(args, key) for key in ("epochs", "time_limit") if getattr(args, key) is not None}
    if args.overrides:
        try:
            with_overrides(RECIPES[args.name], args.overrides)
        except ValueError as exc:
            print(f"advlab train: {exc}", file=sys.stderr)
            return 2
        options["overrides"] = args.overrides
    if args.resume is not None:
        resume = checkpoint_path(args.name, out, args.dry_run, settings) if args.resume == "last" else Path(args.resume)
        if not resume.exists():
            print(f"no checkpoint at {resume}", file=sys.stderr)
            return 2
        options["resume"] = resume
    TRAINERS[args.name](settings, out_dir=out, seed=args.seed, dry_run=args.dry_run, record=True, **options)
    print(f"weights written to {out}")
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from app.training.evaluate import evaluate_zoo_model

    try:
        limit = args.limit or (AUTOATTACK_IMAGES if args.autoattack else 0)
        for line in evaluate_zoo_model(
            settings, args.name, limit=limit, robust=args.robust, autoattack=args.autoattack, record=args.record
        ):
            print(line)
    except (KeyError, FileNotFoundError, RuntimeError) as exc:
        print(f"advlab eval: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    return 0


def _experiment(args: argparse.Namespace, settings: Settings) -> int:
    from app.labs.cli import run_experiment

    try:
        path = run_experiment(settings, args.name, quick=args.quick, out=args.out)
    except (KeyError, FileNotFoundError) as exc:
        print(f"advlab experiment: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    print(f"result written to {path}")
    return 0


def _data(args: argparse.Namespace, settings: Settings) -> int:
    from app.media import data

    if args.download:
        for name in data.DATASETS:
            for train in (True, False):
                data.load_split(name, settings.data_dir, train=train, download=True)
        if args.celeba:  # torchvision's layout (data/celeba/), which app/gan/faces.py also reads
            from torchvision.datasets import CelebA

            CelebA(str(settings.data_dir), split="all", target_type="attr", download=True)
    else:
        for path in data.prepare_from(args.source, settings.data_dir):
            print(f"wrote {path}")
    print(f"datasets ready in {settings.data_dir}")
    return 0


def _gallery(args: argparse.Namespace, settings: Settings) -> int:
    from app.media.gallery import build_gallery

    build_gallery(settings.data_dir, settings.gallery_dir, photos=args.photos, per_class=args.per_class)
    print(f"gallery written to {settings.gallery_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
