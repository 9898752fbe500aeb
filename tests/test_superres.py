"""GAN super-resolution with the shipped srgan-mnist: the networks, the API, the page, training in
dry-run size, and the figures in the manifest measured again."""

from __future__ import annotations

import json
import re

import pytest
import torch

from app.gan.superres import Critic, Upscaler, UpscalerConfig, bicubic, downscale, psnr, sharpness
from app.gan.upscalers import load_upscaler
from app.training import superres
from tests.conftest import ROOT
from tests.test_cli import advlab

NAME = "srgan-mnist"


def test_an_untrained_upscaler_is_bicubic_and_shapes_are_right() -> None:
    cfg = UpscalerConfig(width=8, blocks=1)
    x = torch.rand(3, 1, 14, 14)
    up = Upscaler(cfg).eval()
    assert torch.allclose(up(x), bicubic(x, 2))  # the residual starts at zero
    assert Critic(cfg)(up(x)).shape == (3,)
    assert downscale(torch.ones(1, 1, 28, 28), 2).shape == (1, 1, 14, 14)
    assert float(psnr(x, x + 0.1)[0]) == pytest.approx(20.0, abs=1e-3)
    assert float(sharpness(torch.zeros(1, 1, 4, 4))[0]) == 0


def test_the_api_lists_and_upscales_a_gallery_digit(client) -> None:
    (info,) = client.get("/api/v1/upscalers").json()
    assert info["name"] == NAME and (info["low"], info["high"]) == (14, 28) and info["available"]
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


def test_the_figures_in_the_manifest_hold_when_measured_again(settings, tmp_path) -> None:
    entry = next(
        e for e in json.loads((ROOT / "models" / "manifest.json").read_text())["upscalers"] if e["name"] == NAME
    )
    assert entry["metrics"]["command"] == f"advlab train {NAME} --seed 0"
    from app.zoo.manifest import UpscalerSpec

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


def test_advlab_train_knows_it(data_dir) -> None:
    r = advlab("train", NAME, "--dry-run", data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    assert re.search(r"srgan-mnist: adversarial: \{'judge_accuracy'", r.stdout)


def test_an_upload_on_the_page_lands_at_its_permalink(client) -> None:
    png = (ROOT / "gallery" / "mnist" / "00004.png").read_bytes()
    form = {"data": {"model": NAME}, "files": {"file": ("four.png", png, "image/png")}}
    plain = client.post("/superres", **form, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].startswith(f"/superres?model={NAME}&image=")
    shown = client.post("/superres", **form, headers={"HX-Request": "true"})
    assert shown.status_code == 200 and shown.headers["HX-Push-Url"] == plain.headers["location"]
    assert shown.text.count('class="pixelated" src="/api/v1/images/') == 5
