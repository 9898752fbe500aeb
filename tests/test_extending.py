"""README "Extending", followed literally: a new attack is one file and one registry line. A
throwaway attack written to a file and registered shows up in the API (with its parameters' schema),
runs over HTTP, gets a form and an explanation (its docstring) on the attack lab, and the property
tests pick it up by the norm it declares, and so do the docs' attack table and the benchmarks' runs."""

from __future__ import annotations

import importlib.util
import io
import json
import runpy
import shutil
import sys
import textwrap

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from app.attacks import ATTACKS
from app.config import Settings
from app.main import create_app
from app.media import imaging
from app.zoo.manifest import ModelSpec
from tests import test_properties
from tests.conftest import ROOT

ATTACK_FILE = '''
    """Random sign: one step of size ε in a random direction (a baseline that rarely fools anything).

    Written by tests/test_extending.py to check that an attack is one file and one registry line.
    """

    import torch
    from pydantic import Field

    from app.attacks.base import Attack, Params


    class RandomSignParams(Params):
        eps: float = Field(0.1, ge=0.0, le=1.0, description="L∞ size of the random step.")


    class RandomSign(Attack):
        name = "random-sign"
        title = "Random sign"
        norm = "linf"
        Params = RandomSignParams

        def perturb(self, model, x, goal, params, generator, recorder):
            noise = torch.rand(x.shape, generator=generator).to(x.device) * 2 - 1
            return (x + params.eps * noise.sign()).clamp(0.0, 1.0), 1
'''


@pytest.fixture
def registered(tmp_path, monkeypatch):
    path = tmp_path / "random_sign.py"  # the one file
    path.write_text(textwrap.dedent(ATTACK_FILE))
    spec = importlib.util.spec_from_file_location("random_sign", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "random_sign", module)
    spec.loader.exec_module(module)
    monkeypatch.setitem(ATTACKS, "random-sign", module.RandomSign())  # the one registry line
    yield "random-sign"


def test_the_new_attack_is_in_the_api_and_runs(client, registered) -> None:
    listed = {a["name"]: a for a in client.get("/api/v1/attacks").json()}
    assert registered in listed and "eps" in listed[registered]["params_schema"]["properties"]
    assert listed[registered]["description"].startswith("Random sign: one step")
    r = client.post(
        f"/api/v1/attacks/{registered}",
        json={"model": "mnist-cnn", "image": "sample:mnist-00003", "params": {"eps": 0.2}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["norms"]["linf"] <= 0.2 + 1e-6
    bad = client.post(
        f"/api/v1/attacks/{registered}",
        json={"model": "mnist-cnn", "image": "sample:mnist-00003", "params": {"eps": 2}},
    )
    assert bad.status_code == 422


def test_the_new_attack_has_a_form_and_an_explanation_on_the_lab(client, registered) -> None:
    page = client.get("/attack", params={"model": "mnist-cnn", "attack": registered, "image": "sample:mnist-00003"})
    assert page.status_code == 200
    assert f'<option value="{registered}" selected' in page.text.replace('selected="selected"', "selected")
    assert 'name="eps"' in page.text and "How Random sign works" in page.text


def test_the_property_tests_pick_it_up_by_its_norm(registered, components) -> None:
    assert registered in test_properties.budgeted("linf")
    cnn = components.zoo.model("mnist-cnn")[1]
    picks = [s for s in components.gallery.samples if s.kind == "digit"]
    digits = torch.stack([imaging.image_to_tensor(components.gallery.image(s.id).convert("L")) for s in picks])
    test_properties.test_attacks_stay_in_the_ball_and_the_pixel_range(registered, cnn, digits)


def test_the_docs_table_and_the_benchmark_pick_it_up(registered) -> None:
    tables = runpy.run_path(str(ROOT / "tools" / "docs_tables.py"))
    assert "| `random-sign` | Random sign | L∞ | both | `eps` 0.1 |" in tables["attack_table"]()
    assert tables["main"](check=True) == 1  # the guide's table is now out of date, and the check says so
    runs = runpy.run_path(str(ROOT / "benchmarks" / "attack_success.py"))["RUNS"]
    assert (registered, False) in runs  # make attack-eval runs it, untargeted


def test_the_docs_tables_are_up_to_date() -> None:
    assert runpy.run_path(str(ROOT / "tools" / "docs_tables.py"))["main"](check=True) == 0


def test_a_new_model_is_one_manifest_entry_and_a_new_input_kind_one_function(settings, tmp_path, monkeypatch) -> None:
    """README "Extending": a classifier is its weights plus one manifest entry; a new way of turning
    a picture into its input is one function in PREPARERS. The app lists, loads and runs it."""
    monkeypatch.setitem(
        imaging.PREPARERS,
        "digit-flipped",
        lambda im, shape: imaging.PREPARERS["digit"](im, shape).transpose(Image.FLIP_LEFT_RIGHT),
    )
    body = json.loads((settings.models_dir / "manifest.json").read_text())
    entry = {
        **next(e for e in body["models"] if e["name"] == "mnist-cnn"),
        "name": "mnist-cnn-mirror",
        "title": "mnist-cnn on mirrored digits",
        "preprocess": "digit-flipped",
    }
    shutil.copy(settings.models_dir / entry["weights"]["file"], tmp_path / entry["weights"]["file"])
    (tmp_path / "manifest.json").write_text(json.dumps({"models": [entry]}))
    with TestClient(create_app(Settings(**{**settings.model_dump(), "models_dir": tmp_path}))) as client:
        assert [m["name"] for m in client.get("/api/v1/models").json() if m["available"]] == ["mnist-cnn-mirror"]
        mirrored = client.post("/api/v1/classify", json={"model": "mnist-cnn-mirror", "image": "sample:mnist-00000"})
        assert mirrored.status_code == 200, mirrored.text
        seen = client.get(mirrored.json()["model_input"]["url"]).content
    plain = imaging.prepare(Image.open(ROOT / "gallery" / "mnist" / "00000.png"), "digit", (1, 28, 28))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(seen))), np.asarray(plain)[:, ::-1])
    with pytest.raises(ValueError, match="unknown preprocessing 'sepia'"):
        ModelSpec.model_validate({**entry, "preprocess": "sepia"})
