"""``advlab eval NAME``: re-measure a zoo model as the app loads it."""

from __future__ import annotations

import time
from collections.abc import Iterator

from app.config import Settings
from app.defenses.autoattack import TARGETS, autoattack
from app.defenses.evaluation import ROBUST_SUITE, accuracy_under_attack
from app.media import data, imaging
from app.media.gallery import Gallery
from app.training.classifiers import evaluate
from app.zoo import Zoo
from app.zoo.device import resolve_device
from app.zoo.inference import predict
from app.zoo.manifest import (
    TranslatorSpec,
    read_generators,
    read_manifest,
    read_translators,
    read_upscalers,
    write_entry,
)

AUTOATTACK_EPS = 0.3  # MNIST's standard L∞ budget, as in ROBUST_SUITE


def evaluate_zoo_model(
    settings: Settings, name: str, limit: int = 0, robust: bool = False, autoattack: bool = False, record: bool = False
) -> Iterator[str]:
    """Yield report lines. Dataset models: clean test accuracy (and, with ``robust``, accuracy under
    the ROBUST_SUITE of attacks; with ``autoattack``, under APGD-CE + APGD-T beside PGD-100 × 5;
    ``record`` writes those figures into the manifest). ImageNet: the gallery photos' top-1.
    Generators: their quality figures (see app/training/gans.py). Upscalers: PSNR, sharpness and
    the judge's reading (see app/training/superres.py). Translators: their figures on the held-out
    faces (see app/training/cycle.py)."""
    translators = {t.name: t for t in read_translators(settings.models_dir)}
    if name in translators:
        yield from _evaluate_translator(settings, translators[name], limit, record)
        return
    generators = {g.name: g for g in read_generators(settings.models_dir)}
    if name in generators:
        yield from _evaluate_generator(settings, generators[name], limit, record)
        return
    upscalers = {u.name: u for u in read_upscalers(settings.models_dir)}
    if name in upscalers:
        yield from _evaluate_upscaler(settings, upscalers[name], limit, record)
        return
    zoo = Zoo.load(settings, only={name})
    if name not in zoo.entries:
        models = [spec.name for spec in read_manifest(settings.models_dir)]
        known = ", ".join(models + list(generators) + list(upscalers) + list(translators))
        raise KeyError(f"unknown model {name!r}; known: {known}")
    entry = zoo.entries[name]
    if entry.model is None:
        raise RuntimeError(f"{name} is unavailable: {entry.reason}")
    spec = entry.spec
    if spec.guards:
        yield from _evaluate_detector(settings, spec, entry.model, zoo.device, limit)
        return
    if spec.dataset in data.DATASETS:
        x, y = data.load_split(spec.dataset, settings.data_dir, train=False)
        if limit:
            x, y = x[:limit], y[:limit]
        accuracy = evaluate(entry.model, x, y, str(zoo.device))
        yield f"{name}: test accuracy {accuracy * 100:.2f}% on {len(y)} {spec.dataset} test images"
        recorded = spec.metrics.get("test_accuracy")
        if recorded is not None:
            yield f"{name}: manifest records {recorded * 100:.2f}% ({spec.metrics.get('command')})"
        if robust:
            yield from _robustness(settings, spec, entry.model, x, y, str(zoo.device), accuracy, limit, record)
        if autoattack:
            yield from _autoattack(settings, spec, entry.model, x, y, str(zoo.device), record)
        return
    yield f"{name}: no {spec.dataset} test set here; top-1 on the gallery photos instead:"
    gallery = Gallery(settings.gallery_dir)
    for sample in (s for s in gallery.samples if s.kind == "photo"):
        seen = imaging.prepare(gallery.image(sample.id), spec.preprocess, spec.input_shape)
        probs = predict(entry.model, imaging.image_to_tensor(seen)[None], zoo.device)[0]
        top = int(probs.argmax())
        yield f"  {sample.id:10s} -> {entry.classes[top]} ({probs[top]:.2f})"


def _evaluate_generator(settings: Settings, spec, limit: int, record: bool) -> Iterator[str]:
    """The quality figures by every judge; ``record`` (full measurement only) writes them into the
    manifest beside how the weights were made."""
    from app.training.gans import QUALITY_SAMPLES, measure

    lines: list[str] = []
    n = limit or QUALITY_SAMPLES
    metrics = measure(
        spec, settings, settings.models_dir, samples=n, device=str(resolve_device(settings.device)), log=lines.append
    )
    yield from lines
    for judge, report in metrics.get("judges", {}).items():
        shares = report["class_shares"]
        yield (
            f"{spec.name}: {judge}: {report['confident_share']:.1%} of {n} samples with p >= 0.9 "
            f"(target >= 95% by mnist-cnn, 90% by mnist-judge); class shares {min(shares):.1%} to "
            f"{max(shares):.1%} (target 6% to 14% each)"
        )
    if "requested_share_all_judges" in metrics:
        yield (
            f"{spec.name}: {metrics['requested_share_all_judges']:.1%} of {n} samples taken for the requested "
            f"digit by every judge (target >= 97%)"
        )
    recorded, command = spec.metrics.get("frechet_distance"), spec.metrics.get("command")
    yield f"{spec.name}: manifest records {recorded} Fréchet distance ({command})"
    if record and not limit:
        spec.metrics.update(metrics)
        write_entry(settings.models_dir, spec)
        yield f"{spec.name}: recorded in {settings.models_dir / 'manifest.json'}"


def _evaluate_translator(settings: Settings, spec: TranslatorSpec, limit: int, record: bool) -> Iterator[str]:
    """Each direction's figures on the held-out faces (the first ``limit`` of them when given);
    ``record`` (all of them only) writes them into the manifest."""
    from app.gan import faces
    from app.training.cycle import judge_checksum, judge_net, measure

    device = str(resolve_device(settings.device))
    images, attrs = faces.load_faces(settings.data_dir, held_out=True)
    images, attrs = images[: limit or None], attrs[: limit or None]
    lines: list[str] = []
    judge = judge_net(settings, spec, device)
    figures = measure(spec, settings.models_dir, judge, images, attrs, device=device, log=lines.append)
    yield from lines
    for direction, f in figures["directions"].items():
        yield (
            f"{spec.name}: {direction}: {f['flipped']:.1%} of {f['faces']} held-out faces judged flipped "
            f"({f['flipped_of_judged_source']:.1%} of those the judge also put in the source domain); cycle L1 "
            f"{f['cycle_l1']:.4f}; every other attribute kept on {f['all_others_kept']:.1%}"
        )
    recorded = spec.metrics.get("held_out", {}).get("directions", {})
    shares = ", ".join(f"{d} {f['flipped']:.1%} flipped, cycle L1 {f['cycle_l1']:.4f}" for d, f in recorded.items())
    yield f"{spec.name}: manifest records {shares or 'nothing'} ({spec.metrics.get('command')})"
    if record and not limit:
        spec.metrics["held_out"] = figures
        figures["judge_sha256"] = judge_checksum(settings, spec)
        figures["command"] = f"advlab eval {spec.name} --record"
        write_entry(settings.models_dir, spec)
        yield f"{spec.name}: recorded in {settings.models_dir / 'manifest.json'}"


def _evaluate_upscaler(settings: Settings, spec, limit: int, record: bool) -> Iterator[str]:
    """The upscaler's figures measured again with today's judge (e.g. a retrained attribute
    classifier); ``record`` (full measurement only) writes them into the manifest."""
    from app.training.superres import measure

    lines: list[str] = []
    n = limit or 10_000  # every test image (faces: the 1,000 held out)
    metrics = measure(
        spec, settings, settings.models_dir, samples=n, device=str(resolve_device(settings.device)), log=lines.append
    )
    yield from lines
    recorded = spec.metrics.get("measured_by") or spec.metrics.get("command")
    yield f"{spec.name}: the manifest's figures are those of {recorded} on {spec.metrics.get('test_images')} images"
    if record and not limit:
        spec.metrics.update(metrics, measured_by=f"advlab eval {spec.name} --record")
        write_entry(settings.models_dir, spec)
        yield f"{spec.name}: recorded in {settings.models_dir / 'manifest.json'}"


def _robustness(
    settings: Settings, spec, model, x, y, device: str, clean: float, limit: int, record: bool
) -> Iterator[str]:
    """Accuracy under each attack of the suite, on the same test images as the clean figure."""
    results = []
    for attack, params, title in ROBUST_SUITE:
        started = time.perf_counter()
        accuracy = accuracy_under_attack(model, x, y, attack, params, seed=0, device=device)
        seconds = time.perf_counter() - started
        results.append(
            {
                "attack": title,
                "name": attack,
                "params": params,
                "accuracy": round(accuracy, 4),
                "seconds": round(seconds, 1),
            }
        )
        yield f"{spec.name}: {accuracy * 100:.2f}% under {title} on {len(y)} test images ({seconds:.0f} s)"
    if record:
        command = f"advlab eval {spec.name} --robust --record" + (f" --limit {limit}" if limit else "")
        spec.metrics["robustness"] = {
            "test_images": len(y),
            "clean_accuracy": round(clean, 4),
            "attacks": results,
            "command": command,
        }
        write_entry(settings.models_dir, spec)
        yield f"{spec.name}: recorded in {settings.models_dir / 'manifest.json'}"


def _autoattack(settings: Settings, spec, model, x, y, device: str, record: bool) -> Iterator[str]:
    """APGD-CE + APGD-T at ε = 0.3 and, on the same images, the suite's headline PGD-100 × 5."""
    attack, params, title = ROBUST_SUITE[-1]
    started = time.perf_counter()
    pgd = accuracy_under_attack(model, x, y, attack, params, seed=0, device=device)
    yield f"{spec.name}: {pgd * 100:.2f}% under {title} on {len(y)} test images ({time.perf_counter() - started:.0f} s)"
    started = time.perf_counter()
    result = autoattack(model, x, y, AUTOATTACK_EPS, device=device)
    seconds = time.perf_counter() - started
    yield (
        f"{spec.name}: {result.after_ce * 100:.2f}% under APGD-CE, {result.after_t * 100:.2f}% under "
        f"APGD-CE + APGD-T ({TARGETS} targets, 100 steps each), ε = {AUTOATTACK_EPS}, on {len(y)} "
        f"test images ({seconds:.0f} s)"
    )
    if record:
        spec.metrics["autoattack"] = {
            "test_images": len(y),
            "eps": AUTOATTACK_EPS,
            "clean_accuracy": round(result.clean, 4),
            "apgd_ce": round(result.after_ce, 4),
            "apgd_ce_t": round(result.after_t, 4),
            "pgd_100x5": round(pgd, 4),
            "steps": 100,
            "targets": TARGETS,
            "seconds": round(seconds, 1),
            "device": device,
            "command": f"advlab eval {spec.name} --autoattack --record --limit {len(y)}",
        }
        write_entry(settings.models_dir, spec)
        yield f"{spec.name}: recorded in {settings.models_dir / 'manifest.json'}"


def _evaluate_detector(settings: Settings, spec, detector, device, limit: int) -> Iterator[str]:
    """The detector's report again: false alarms, detection per attack and ε, the adaptive attack."""
    from app.training.detector import TEST_IMAGES, detection_report

    guarded = Zoo.load(settings, only={spec.guards}).model(spec.guards)[1]
    x, y = data.load_split("mnist", settings.data_dir, train=False)
    n = limit or TEST_IMAGES
    lines: list[str] = []
    detection_report(guarded, detector, x[:n], y[:n], seed=0, device=str(device), log=lines.append)
    yield from lines
    images = spec.metrics.get("detector", {}).get("test_images")
    yield f"{spec.name}: manifest records the same report on {images} images"
