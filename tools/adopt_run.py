"""Adopt a training run written with ``advlab train NAME --out DIR``: copy its weights into
models/ and its manifest entries into models/manifest.json (the figures it measured included).

    python tools/adopt_run.py DIR [NAME ...]

Only the named entries (all of DIR's when none is named). The weights' checksums are checked
against DIR's manifest before anything is copied.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import Settings
from app.zoo.manifest import (
    MANIFEST_NAME,
    SECTIONS,
    GeneratorSpec,
    ModelSpec,
    TranslatorSpec,
    UpscalerSpec,
    WeightsRef,
    sha256_file,
    write_entry,
)


def adopt(run: Path, names: list[str], models_dir: Path) -> list[str]:
    body = json.loads((run / MANIFEST_NAME).read_text())
    specs = [kind.model_validate(e) for section, kind in SECTIONS.items() for e in body.get(section, [])]
    chosen = [s for s in specs if not names or s.name in names]
    missing = set(names) - {s.name for s in chosen}
    if missing:
        raise SystemExit(f"{run}: no entry named {', '.join(sorted(missing))}")
    for spec in chosen:
        for ref in _weights(spec):
            if sha256_file(run / ref.file) != ref.sha256:
                raise SystemExit(f"{run / ref.file}: checksum differs from its manifest entry")
    for spec in chosen:
        for ref in _weights(spec):
            shutil.copyfile(run / ref.file, models_dir / ref.file)
        write_entry(models_dir, spec)
    return [s.name for s in chosen]


def _weights(spec: ModelSpec | GeneratorSpec | UpscalerSpec | TranslatorSpec) -> list[WeightsRef]:
    if isinstance(spec, ModelSpec):
        return [spec.weights]
    if isinstance(spec, TranslatorSpec):
        return [spec.forward, spec.backward]
    if isinstance(spec, UpscalerSpec):
        return [spec.pixel, spec.adversarial, spec.critic]
    return [spec.generator, spec.discriminator, *([spec.attributes.weights] if spec.attributes else [])]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    adopted = adopt(Path(sys.argv[1]), sys.argv[2:], Settings().models_dir)
    print(f"adopted {', '.join(adopted)} into {Settings().models_dir}")
