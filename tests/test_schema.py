"""The OpenAPI schema against the real app, in-process (ASGI, no network), with schemathesis.

For every operation schemathesis sends the schema's examples and a few generated requests and
checks that the answer is never a 5xx, that its status code is documented, and that its body
matches the documented schema. Bounded so that the file runs in about a minute on two cores.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.config import ROOT, Settings
from app.main import create_app
from tests.conftest import local_weights

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Left out, because one generated request can start minutes of CPU work that outlives the test:
# starting an experiment (a robustness curve or a transfer matrix runs as a background job),
# starting a GAN training session, and comparing the two GAN costs. tests/test_experiments.py and
# tests/test_gan_lab.py drive them with small settings, and tests/test_bad_inputs.py sends them bad parameters.
# The attacks other than FGSM (one gradient step) are left out too: they run up to thousands of steps
# per request. Each attack has its own operation and typed parameters, so FGSM's stands for them.
EXPENSIVE = [
    ("POST", "^/api/v1/experiments/"),
    ("POST", "^/api/v1/gan-lab/sessions$"),
    ("POST", "^/api/v1/gan-lab/compare$"),
    ("POST", "^/api/v1/attacks/(?!fgsm)"),
]


def own_app():
    """An app of its own, with its own store and jobs folders. Nothing runs until the first request:
    schemathesis then starts its lifespan (loading the models) and keeps it to the end of the run.

    Built at import rather than in a fixture because schemathesis' fixture-based loader does not
    work with pytest 9.2 (it renames test nodes through an attribute pytest no longer has)."""
    folders = tempfile.TemporaryDirectory(prefix="advlab-schema-")
    root = Path(folders.name)
    own = Settings(
        image_store_dir=root / "images",
        jobs_dir=root / "jobs",
        data_dir=ROOT / "data",
        local_weights=local_weights(),
        allow_downloads=False,
        max_upload_bytes=2 * 1024 * 1024,
        max_image_pixels=4_000_000,
        trusted_hosts=["testserver", "localhost", "127.0.0.1"],
    )
    app = create_app(own)
    app.state.folders = folders  # removed with the app
    return app


APP = own_app()
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(APP.openapi())))
schema.app = APP
for method, path in EXPENSIVE:
    schema = schema.exclude(method=method, path_regex=path)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_contract(case) -> None:
    case.call_and_validate(checks=CHECKS)
