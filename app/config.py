"""One settings object for the whole app: environment variables with the prefix ``ADVLAB_``.

Every field is documented in the settings table of docs/operations.md; tests build their own ``Settings``
and pass it to ``create_app``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
"""The project checkout: templates/, static/, models/ and gallery/ live here."""

MIB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ADVLAB_", extra="ignore")

    device: Literal["auto", "cpu", "cuda"] | str = Field(
        "auto",
        description=(
            "Torch device for the models: `auto` picks `cuda` when there is a GPU, else `cpu`; or `cpu`, `cuda`, "
            "`cuda:1`."
        ),
    )
    data_dir: Path = Field(
        ROOT / "data",
        description=(
            "Torchvision's dataset root (holds `MNIST/`, `FashionMNIST/`, and `celeba-10k/` or torchvision's "
            "`celeba/`)."
        ),
    )
    models_dir: Path = Field(ROOT / "models", description="Folder with `manifest.json` and the safetensors weights.")
    gallery_dir: Path = Field(ROOT / "gallery", description="Folder with the built-in sample images and `index.json`.")
    image_store_dir: Path = Field(ROOT / "var" / "images", description="Where uploads and result images are kept.")
    image_store_max_bytes: int = Field(256 * MIB, gt=0, description="Byte cap of the image store.")
    image_store_client_max_bytes: int = Field(
        64 * MIB,
        gt=0,
        description=("Uploads kept per client address; past it the client's own oldest uploads are evicted."),
    )
    input_cache_bytes: int = Field(
        64 * MIB,
        ge=0,
        description=(
            "Memory for prepared model inputs (a picture decoded and preprocessed once per model, then reused while"
            " a slider moves; `0` keeps none)."
        ),
    )
    result_cache_entries: int = Field(
        1024,
        ge=0,
        description=(
            "Attack results, FGSM sweeps and GAN sample grids kept for repeat requests (a room opening the same "
            "demo gets it at once); `0` reuses nothing: every request computes."
        ),
    )
    max_upload_bytes: int = Field(10 * MIB, gt=0, description="Largest accepted upload body.")
    max_image_pixels: int = Field(25_000_000, gt=0, description="Largest accepted width × height.")
    local_weights: Annotated[dict[str, Path], NoDecode] = Field(
        default_factory=dict,
        description=(
            "Model name → local weights file, `name=/path/file,name2=/path/file2` or a JSON object, e.g. "
            "`imagenet-squeezenet=/path/squeezenet.pth`; used instead of a download."
        ),
    )
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"],
        description=(
            "The names the server answers to (the `Host` header); others get a 400. Add the name or address "
            "students use, e.g. `advlab.example.org,192.168.1.20`; `*.example.org` for subdomains, `*` for any."
        ),
    )
    allow_downloads: bool = Field(
        True, description="Let torchvision download pretrained weights it does not have cached."
    )
    top_k: int = Field(5, ge=1, le=20, description="How many predictions classify returns by default (1–20).")
    request_timeout_s: float = Field(30.0, gt=0, description="Deadline for one request's model work, in seconds.")
    header_timeout_s: float = Field(
        10.0, gt=0, description="A request's headers must arrive within this many seconds (else 408, closed)."
    )
    body_timeout_s: float = Field(
        60.0, gt=0, description="A request's body must arrive within this many seconds of its headers."
    )
    queue_max: int = Field(64, ge=1, description="Model work allowed to wait; more gets a 503.")
    batching: bool = Field(True, description="Batch concurrent FGSM and classify requests for the same model.")
    max_batch: int = Field(32, ge=1, le=1024, description="Most requests in one batch.")
    batch_wait_ms: float = Field(2.0, ge=0, le=1000, description="How long a lone request waits for company, in ms.")
    worker_threads: int = Field(
        4, ge=1, le=64, description="Threads for image decoding and PNG encoding beside the model thread."
    )
    torch_threads: int = Field(0, ge=0, description="CPU threads for torch (`0`: torch's default).")
    gan_lab_sessions: int = Field(
        8, ge=1, description="Live GAN-training sessions at once; more are told to wait (503)."
    )
    gan_lab_idle_s: float = Field(30.0, gt=0, description="A lab session nobody polls for this long ends.")
    gan_lab_max_steps: int = Field(20_000, ge=1, description="Generator steps after which a lab session stops.")
    jobs_dir: Path = Field(
        ROOT / "var" / "jobs",
        description="Where finished experiment results are kept (their permalinks survive a restart).",
    )
    job_idle_s: float = Field(30.0, gt=0, description="An experiment nobody polls for this long is cancelled.")
    job_deadline_s: float = Field(1800.0, gt=0, description="An experiment running longer than this is stopped.")
    jobs_max_queued: int = Field(16, ge=1, description="Experiments allowed to wait; more get a 503.")
    ray_min_replicas: int = Field(1, ge=1, description="Ray Serve: fewest replicas of the app.")
    ray_max_replicas: int = Field(1, ge=1, description="Ray Serve: most replicas (the autoscaler's ceiling).")
    ray_gpus_per_replica: float = Field(0, ge=0, description="Ray Serve: GPUs each replica needs (1 on a GPU cluster).")
    ray_cpus_per_replica: float = Field(1, ge=0, description="Ray Serve: CPUs each replica reserves.")

    @field_validator("trusted_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: object) -> object:
        return [h.strip() for h in value.split(",") if h.strip()] if isinstance(value, str) else value

    @field_validator("local_weights", mode="before")
    @classmethod
    def _parse_local_weights(cls, value: object) -> object:
        """Accept ``name=path,name=path`` (the documented form) or a JSON object."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("{"):
            return json.loads(text)
        pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError("ADVLAB_LOCAL_WEIGHTS must look like name=/path/file,name2=/path/file2")
        return {name.strip(): path.strip() for name, path in pairs}


@lru_cache
def get_settings() -> Settings:
    return Settings()
