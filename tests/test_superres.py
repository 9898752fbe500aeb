"""GAN super-resolution with the shipped srgan-mnist and srgan-faces: the networks, the API, the
page, training in dry-run size, and the figures in the manifest measured again."""

from __future__ import annotations

import json
import re

import pytest
import torch

from app.gan import faces
from app.gan.superres import Critic, Upscaler, UpscalerConfig, bicubic, downscale, psnr, sharpness
from app.gan.upscalers import load_upscaler
from app.training import superres
from app.training.evaluate import evaluate_zoo_model
from app.zoo.manifest import UpscalerSpec
from tests.conftest import ROOT
from tests.test_cli import advlab

NAME = "srgan-mnist"
FACES = "srgan-faces"


def manifest_entry(name: str) -> dict:
    entries = json.loads((ROOT / "models" / "manifest.json").read_text())["upscalers"]
    return next(e for e in entries if e["name"] == name)


def test_an_untrained_upscaler_is_bicubic_and_shapes_are_right() -> None:
    cfg = UpscalerConfig(width=8, blocks=1)
    x = torch.rand(3, 1, 14, 14)
    up = Upscaler(cfg).eval()
    assert torch.allclose(up(x), bicubic(x, 2))  # the residual starts at zero
    assert Critic(cfg)(up(x)).shape == (3,)
    assert downscale(torch.ones(1, 1, 28, 28), 2).shape == (1, 1, 14, 14)
    assert float(psnr(x, x + 0.1)[0]) == pytest.approx(20.0, abs=1e-3)
    assert float(sharpness(torch.zeros(1, 1, 4, 4))[0]) == 0
    faces_cfg = UpscalerConfig(channels=3, low=32, width=8, blocks=1)
    rgb = torch.rand(2, 3, 32, 32)
    assert Upscaler(faces_cfg).eval()(rgb).shape == (2, 3, 64, 64)
    assert Critic(faces_cfg)(torch.rand(2, 3, 64, 64)).shape == (2,)


def test_balanced_accuracy_weighs_both_sides_of_a_rare_attribute() -> None:
    truth = torch.tensor([[True], [False], [False], [False]])
    never = torch.zeros(4, 1, dtype=torch.bool)
    assert float(faces.balanced_accuracy(never, truth)[0]) == 0.5  # 75% right, but no better than chance
    assert float(faces.balanced_accuracy(truth, truth)[0]) == 1.0


def test_the_api_lists_and_upscales_a_gallery_digit(client) -> None:
    listed = {u["name"]: u for u in client.get("/api/v1/upscalers").json()}
    assert set(listed) == {NAME, FACES}
    info = listed[NAME]
    assert (info["low"], info["high"]) == (14, 28) and info["available"]
    assert (listed[FACES]["low"], listed[FACES]["high"]) == (32, 64) and listed[FACES]["available"]
    assert listed[FACES]["attribute_judge"] == "dcgan-faces" and "CelebA" in listed[FACES]["licence"]
    r = client.post(f"/api/v1/upscalers/{NAME}", json={"image": "sample:mnist-00003"})
    assert r.status_code == 200, r.text
    results = {x["method"]: x for x in r.json()["results"]}
    assert list(results) == ["original", "low", "bicubic", "pixel", "adversarial"]
    assert results["low"]["image"]["width"] == 14 and results["adversarial"]["image"]["width"] == 28
    assert results["original"]["psnr"] is None and all(results[m]["psnr"] > 10 for m in ("bicubic", "pixel"))
    truth = client.get("/api/v1/samples").json()
    label = next(s["label"] for s in truth if s["id"] == "mnist-00003")
    assert results["original"]["predictions"][0]["label"] == str(label)


def test_the_api_upscales_an_upload_and_refuses_what_it_cannot(client) -> None:
    png = (ROOT / "gallery" / "mnist" / "00007.png").read_bytes()
    image = client.post("/api/v1/images", files={"file": ("seven.png", png, "image/png")}).json()["id"]
    assert client.post(f"/api/v1/upscalers/{NAME}", json={"image": image}).status_code == 200
    missing = client.post("/api/v1/upscalers/esrgan", json={"image": image})
    assert missing.status_code == 404 and NAME in missing.json()["detail"]
    bad = client.post(f"/api/v1/upscalers/{NAME}", json={"image": "sample:nope"})
    assert 400 <= bad.status_code < 500 and bad.json()["detail"]
    extra = client.post(f"/api/v1/upscalers/{NAME}", json={"image": image, "scale": 4})
    assert extra.status_code == 422 and "scale" in extra.text


def test_the_api_upscales_a_photo_as_a_face_and_refuses_what_it_cannot(client) -> None:
    r = client.post(f"/api/v1/upscalers/{FACES}", json={"image": "sample:astronaut", "top_k": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["judge"] == "dcgan-faces"
    results = {x["method"]: x for x in body["results"]}
    assert list(results) == ["original", "low", "bicubic", "pixel", "adversarial"]
    assert results["low"]["image"]["width"] == 32 and results["original"]["image"]["width"] == 64
    assert all(results[m]["psnr"] > 15 for m in ("bicubic", "pixel", "adversarial"))
    assert set(results["pixel"]["attributes"]) == set(faces.ATTRIBUTES) and len(results["pixel"]["predictions"]) == 2
    # what cannot be a face: a picture under 64x64 (a 28x28 digit), an unknown upscaler, not a picture
    small = client.post(f"/api/v1/upscalers/{FACES}", json={"image": "sample:mnist-00003"})
    assert small.status_code == 422 and "at least 64 pixels" in small.json()["detail"] and "28×28" in small.text
    missing = client.post("/api/v1/upscalers/srgan-cats", json={"image": "sample:astronaut"})
    assert missing.status_code == 404 and FACES in missing.json()["detail"]
    assert client.post(f"/api/v1/upscalers/{FACES}", json={"image": 7}).status_code == 422
    text = client.post("/api/v1/images", files={"file": ("face.png", b"not a picture", "image/png")})
    assert 400 <= text.status_code < 500 and text.json()["detail"]


def test_the_faces_page_offers_drawn_faces_and_photos_and_the_figures(client) -> None:
    page = client.get(f"/superres?model={FACES}&image=sample:mnist-00003")  # switched from digits
    assert page.status_code == 200, page.text
    assert page.text.count('class="pixelated" src="/api/v1/images/') == 5 and 'width="192"' in page.text
    assert "Faces drawn by dcgan-faces" in page.text and page.text.count('class="thumb drawn"') == 8
    assert 'value="sample:astronaut"' in page.text and 'value="sample:mnist-' not in page.text
    assert "Eyeglasses" in page.text and "held-out CelebA faces" in page.text and "non-commercial" in page.text
    drawn = re.search(r'name="image" value="([0-9a-f]+)" checked', page.text).group(1)
    again = client.get(f"/superres?model={FACES}&image={drawn}")
    assert again.status_code == 200 and f'value="{drawn}" checked' in again.text  # a drawn face keeps its permalink
    back = client.get(f"/superres?model={NAME}&image={drawn}")  # switched back: a digit again
    assert back.status_code == 200 and 'value="sample:mnist-00003" checked' in back.text
    small = client.get(f"/superres?model={FACES}&image=sample:nope")
    assert 400 <= small.status_code < 500
    switched = client.get(f"/superres?model={FACES}&image=sample:mnist-00003", headers={"HX-Request": "true"})
    assert switched.headers["HX-Push-Url"] == f"/superres?model={FACES}&image={drawn}"  # the address bar follows


def test_the_page_shows_five_pictures_and_the_figures(client) -> None:
    page = client.get(f"/superres?model={NAME}&image=sample:mnist-00005")
    assert page.status_code == 200, page.text
    assert page.text.count('class="pixelated" src="/api/v1/images/') == 5
    assert "pixel + adversarial" in page.text and "PSNR" in page.text
    fragment = client.get("/superres?image=sample:mnist-00001", headers={"HX-Request": "true"})
    assert "<h1>" not in fragment.text and "bicubic" in fragment.text


def test_a_dry_run_writes_loadable_weights_and_its_figures(settings, tmp_path) -> None:
    spec = superres.train(
        superres.RECIPES[NAME], settings, tmp_path, seed=0, dry_run=True, device="cpu", log=lambda _: None
    )
    entry = load_upscaler(spec, tmp_path, torch.device("cpu"))
    assert entry.available and not entry.adversarial.training
    figures = spec.metrics["upscaled"]
    assert set(figures) == {"bicubic", "pixel", "adversarial", "original"}
    assert all(0 <= figures[m]["judge_accuracy"] <= 1 for m in figures) and "psnr" not in figures["original"]


def test_a_faces_dry_run_measures_the_attributes(settings, tmp_path) -> None:
    spec = superres.train(
        superres.RECIPES[FACES], settings, tmp_path, seed=0, dry_run=True, device="cpu", log=lambda _: None
    )
    assert spec.licence == faces.LICENCE and spec.attribute_judge == "dcgan-faces"
    assert load_upscaler(spec, tmp_path, torch.device("cpu")).available
    figures = spec.metrics["upscaled"]
    for method in ("bicubic", "pixel", "adversarial", "original"):
        reading = figures[method]["attribute_balanced_accuracy"]
        assert set(reading) == {"mean", *faces.ATTRIBUTES} and 0 <= reading["mean"] <= 1
    # the real faces read as the attribute classifier's own held-out figures say
    recorded = json.loads((ROOT / "models" / "manifest.json").read_text())["generators"]
    per = next(g for g in recorded if g["name"] == "dcgan-faces")["attributes"]["metrics"]["per_attribute"]
    assert abs(figures["original"]["attribute_balanced_accuracy"]["Male"] - per["Male"]["balanced_accuracy"]) < 0.05


def test_the_figures_in_the_manifest_hold_when_measured_again(settings, tmp_path) -> None:
    entry = manifest_entry(NAME)
    assert entry["metrics"]["command"] == f"advlab train {NAME} --seed 0"
    spec = UpscalerSpec.model_validate(entry)
    again = superres.measure(spec, settings, ROOT / "models", samples=500, device="cpu", log=lambda _: None)
    for method in ("bicubic", "pixel", "adversarial"):
        # the first 500 of the 10,000 test digits: close to the recorded figures
        assert abs(again["upscaled"][method]["psnr"] - entry["metrics"]["upscaled"][method]["psnr"]) < 1.0
    # what the page and the docs say: both networks are far closer than bicubic (> 5 dB) and as
    # sharp as the real digits (within 2%), where bicubic is visibly softer
    recorded = entry["metrics"]["upscaled"]
    real = recorded["original"]["sharpness"]
    for method in ("pixel", "adversarial"):
        assert recorded[method]["psnr"] > recorded["bicubic"]["psnr"] + 5
        assert abs(recorded[method]["sharpness"] - real) < 0.02 * real
    assert recorded["bicubic"]["sharpness"] < 0.9 * real


def test_the_faces_figures_in_the_manifest_hold_when_measured_again(settings) -> None:
    entry = manifest_entry(FACES)
    assert entry["metrics"]["command"] == f"advlab train {FACES} --seed 0" and entry["licence"] == faces.LICENCE
    recorded = entry["metrics"]["upscaled"]
    lines = list(evaluate_zoo_model(settings, FACES, limit=500))
    assert any(line.startswith(f"{FACES}: adversarial: {{'attribute_balanced_accuracy'") for line in lines)
    again = superres.measure(
        UpscalerSpec.model_validate(entry), settings, ROOT / "models", samples=500, device="cpu", log=lambda _: None
    )
    for method in ("bicubic", "pixel", "adversarial"):  # half of the 1,000 held-out faces
        assert abs(again["upscaled"][method]["psnr"] - recorded[method]["psnr"]) < 0.5
    # what the page and the docs say: the pixel loss beats bicubic by over 1 dB; the critic buys
    # sharpness (closer to the real faces') with more than 1 dB of it; the attribute classifier reads
    # both networks' faces better than bicubic's, and the real ones best
    mean = {m: recorded[m]["attribute_balanced_accuracy"]["mean"] for m in recorded}
    sharp = {m: recorded[m]["sharpness"] for m in recorded}
    assert recorded["pixel"]["psnr"] > recorded["bicubic"]["psnr"] + 1
    assert recorded["adversarial"]["psnr"] < recorded["pixel"]["psnr"] - 1
    assert sharp["bicubic"] < sharp["pixel"] < sharp["adversarial"] < sharp["original"]
    assert mean["bicubic"] < min(mean["pixel"], mean["adversarial"]) and max(mean.values()) == mean["original"]


def test_eval_record_rewrites_the_figures_with_todays_judge(settings, tmp_path) -> None:
    for f in (ROOT / "models").glob("*.safetensors"):
        (tmp_path / f.name).symlink_to(f)
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text())
    entry = next(e for e in manifest["upscalers"] if e["name"] == FACES)
    entry["metrics"]["upscaled"]["pixel"]["psnr"] = 0.0  # as if measured with another judge
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    lines = list(evaluate_zoo_model(settings.model_copy(update={"models_dir": tmp_path}), FACES, record=True))
    assert lines[-1].endswith("recorded in " + str(tmp_path / "manifest.json"))
    written = next(e for e in json.loads((tmp_path / "manifest.json").read_text())["upscalers"] if e["name"] == FACES)
    assert written["metrics"]["upscaled"] == manifest_entry(FACES)["metrics"]["upscaled"]
    assert written["metrics"]["measured_by"] == f"advlab eval {FACES} --record"


@pytest.mark.parametrize("name", [NAME, FACES])
def test_advlab_train_knows_it(data_dir, name) -> None:
    r = advlab("train", name, "--dry-run", data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    reading = "judge_accuracy" if name == NAME else "attribute_balanced_accuracy"
    assert re.search(rf"{name}: adversarial: \{{'{reading}'", r.stdout)


def test_an_upload_on_the_page_lands_at_its_permalink(client) -> None:
    png = (ROOT / "gallery" / "mnist" / "00004.png").read_bytes()
    form = {"data": {"model": NAME}, "files": {"file": ("four.png", png, "image/png")}}
    plain = client.post("/superres", **form, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].startswith(f"/superres?model={NAME}&image=")
    shown = client.post("/superres", **form, headers={"HX-Request": "true"})
    assert shown.status_code == 200 and shown.headers["HX-Push-Url"] == plain.headers["location"]
    assert shown.text.count('class="pixelated" src="/api/v1/images/') == 5
