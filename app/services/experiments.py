"""What the experiment routes call: start a job from parameters, describe a job, build the form
and the charts. Parameters arrive as JSON (the API) or as form text (the pages)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app import schemas
from app.config import Settings
from app.errors import NotFound
from app.labs import EXPERIMENTS, Experiment
from app.runtime.jobs import Job, JobManager
from app.zoo import Zoo


class ExperimentInfo(BaseModel):
    kind: str
    title: str
    description: str
    params_schema: dict[str, Any]


class JobInfo(BaseModel):
    id: str
    kind: str
    params: dict[str, Any]
    status: str = Field(description="queued, running, done, failed or cancelled.")
    progress: float = Field(description="0 to 1.")
    message: str
    queue_position: int | None = Field(None, description="1 = next to run; null when not waiting.")
    estimated_wait_s: float | None = Field(None, description="Seconds until it starts, when known.")
    error: str | None = None
    result: dict[str, Any] | None = None
    url: str = Field(description="The job's page, a permalink to its result.")
    cancel_token: str | None = Field(
        None,
        description=(
            "Only in the answer that started or joined a waiting or running job: send it in the "
            "X-Cancel-Token header of DELETE /api/v1/jobs/{id} to cancel. The run stops when every client "
            "that holds a token has cancelled."
        ),
    )


def experiment(kind: str) -> Experiment:
    if kind not in EXPERIMENTS:
        raise NotFound(f"There is no experiment {kind[:40]!r}. Known: {', '.join(EXPERIMENTS)}.")
    return EXPERIMENTS[kind]


def list_experiments() -> list[ExperimentInfo]:
    return [
        ExperimentInfo(
            kind=e.kind, title=e.title, description=e.description, params_schema=e.Params.model_json_schema()
        )
        for e in EXPERIMENTS.values()
    ]


def parse(e: Experiment, raw: dict) -> BaseModel:
    return schemas.parse(e.Params, raw, "Some of the experiment's parameters are not valid")


class ExperimentService:
    """Experiments as jobs on the queue: start (or join) a run, and describe a job."""

    def __init__(self, zoo: Zoo, jobs: JobManager, settings: Settings) -> None:
        self.zoo, self.jobs, self.settings = zoo, jobs, settings

    def start(self, kind: str, raw: dict) -> tuple[Job, str | None]:
        """The job and the caller's cancel token (None when the result is already there)."""
        e = experiment(kind)
        params = parse(e, raw)
        names = e.models(params)
        for name in names:
            self.zoo.model(name)  # 404 or 503 now, not in the middle of the run
        e.check(self.zoo, names)
        data_dir = self.settings.data_dir
        return self.jobs.submit(kind, params.model_dump(), lambda stop: e.body(params, self.zoo, data_dir, stop))

    def describe(self, job: Job, cancel_token: str | None = None) -> JobInfo:
        return JobInfo(
            id=job.id,
            kind=job.kind,
            params=job.params,
            status=job.status,
            progress=round(job.progress, 4),
            message=job.message,
            queue_position=self.jobs.position(job),
            estimated_wait_s=self.jobs.estimated_wait(job),
            error=job.error,
            result=job.result,
            url=f"/jobs/{job.id}",
            cancel_token=cancel_token,
        )


# --- the pages' form and pictures ---------------------------------------------------------------


def form_fields(e: Experiment, values: dict) -> list[dict]:
    """One form field per parameter: lists are typed as comma-separated text."""
    fields = []
    for key, prop in e.Params.model_json_schema()["properties"].items():
        value = values.get(key, prop.get("default"))
        kind = "list" if prop.get("type") == "array" else "choice" if "enum" in prop else prop.get("type", "string")
        fields.append(
            {
                "name": key,
                "kind": kind,
                "help": prop.get("description", ""),
                "choices": prop.get("enum", []),
                "value": ", ".join(map(str, value)) if isinstance(value, list) else value,
                "min": prop.get("minimum"),
                "max": prop.get("maximum"),
            }
        )
    return fields


def from_form(e: Experiment, form: dict[str, str]) -> dict:
    """Form text -> raw parameters (lists split at commas); validation happens in ``parse``."""
    raw = {}
    for key, prop in e.Params.model_json_schema()["properties"].items():
        if key not in form:
            continue
        text = form[key].strip()
        raw[key] = [item.strip() for item in text.split(",") if item.strip()] if prop.get("type") == "array" else text
    return raw
