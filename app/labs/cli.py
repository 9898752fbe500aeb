"""``advlab experiment NAME``: run an experiment with its default parameters and ship the result
(models/experiments/NAME.json), so that its page answers at once; ``--quick`` is a smoke test."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import torch

from app.config import Settings
from app.labs import EXPERIMENTS
from app.runtime.jobs import run_to_end
from app.zoo import Zoo

QUICK = {
    "robustness": {"models": ["mnist-cnn"], "eps": [0.0, 0.3], "n": 10, "steps": 2},
    "transfer": {"targets": ["mnist-cnn"], "attacks": ["fgsm"], "eps": [0.3], "n": 10, "steps": 2},
    "shortcut": {"epochs": 1, "weights": [2], "train_images": 1000},
}


def run_experiment(settings: Settings, name: str, *, quick: bool = False, out: Path | None = None) -> Path:
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    if settings.torch_threads:
        torch.set_num_threads(settings.torch_threads)
    e = EXPERIMENTS[name]
    params = e.Params.model_validate(QUICK[name] if quick else {})
    zoo = Zoo.load(settings, only=set(e.models(params)))
    started = time.perf_counter()
    result = run_to_end(e.body(params, zoo, settings.data_dir, None))
    folder = out or (Path(tempfile.mkdtemp(prefix="advlab-quick-")) if quick else settings.models_dir / "experiments")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(
        json.dumps(
            {
                "kind": name,
                "params": params.model_dump(),
                "finished": time.time(),
                "seconds": round(time.perf_counter() - started, 1),
                "device": str(zoo.device),
                "command": f"advlab experiment {name}",
                "result": result,
            },
            indent=1,
        )
        + "\n"
    )
    return path
