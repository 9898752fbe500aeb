"""CycleGAN between faces that do not smile and faces that smile: the networks and losses, training
in dry-run size over the CLI (and resuming it), the shipped weights over real HTTP, bad input."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import torch
from PIL import Image

from app.errors import ModelUnavailable, NotFound
from app.gan import faces
from app.gan.cycle import PatchDiscriminator, Translator, TranslatorConfig, cycle_error, cycle_loss, lsgan_loss
from app.gan.translators import Translators, load_translator
from app.training import RESUMABLE, TRAINERS, WITH_EPOCHS
from app.training.cycle import judge_checksum, judge_net, measure
from app.zoo.manifest import read_translators
from tests.conftest import ROOT

NAME = "cyclegan-faces"


def advlab(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    """The CLI of this checkout (python -m app.cli from the repository root)."""
    env = {**os.environ, "ADVLAB_ALLOW_DOWNLOADS": "0", "ADVLAB_DATA_DIR": str(data_dir), "ADVLAB_DEVICE": "cpu"}
    cmd = [sys.executable, "-m", "app.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def faces_dir(data_dir: Path) -> Path:
    if not (data_dir / "celeba-10k").is_dir() and not (data_dir / "celeba").is_dir():
        pytest.skip("CelebA is not in the data dir")
    return data_dir


def test_the_networks_keep_the_picture_shape_and_range() -> None:
    cfg = TranslatorConfig()
    x = torch.rand(2, 3, 64, 64)
    g = Translator(cfg).eval()
    with torch.no_grad():
        y = g(x)
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    assert PatchDiscriminator(cfg)(x).shape == (2, 1, 8, 8)  # one score per patch
    size = sum(p.numel() for p in g.parameters()) * 4
    assert size < 4e6  # float32 bytes: each translator under 4 MB
    assert set(cfg.to_dict()) == {"channels", "side", "width", "downs", "blocks", "d_width", "d_layers"}


def test_the_cycle_loss_is_the_mean_absolute_pixel_difference() -> None:
    x = torch.zeros(2, 3, 4, 4)
    back = x.clone()
    back[0] += 0.5  # the first picture comes back 0.5 off everywhere, the second exactly
    assert float(cycle_loss(x, x)) == 0
    assert float(cycle_loss(x, back)) == pytest.approx(0.25)
    assert cycle_error(x, back).tolist() == pytest.approx([0.5, 0.0])
    assert float(lsgan_loss(torch.ones(3), True)) == 0 and float(lsgan_loss(torch.ones(3), False)) == 1


def test_it_is_trainable_with_epochs_and_resume() -> None:
    assert NAME in TRAINERS and NAME in WITH_EPOCHS and NAME in RESUMABLE


def test_a_dry_run_over_the_cli_writes_weights_figures_and_a_checkpoint(faces_dir, tmp_path) -> None:
    r = advlab("train", NAME, "--dry-run", "--out", str(tmp_path), data_dir=faces_dir)
    assert r.returncode == 0, r.stderr
    assert "epoch 1/1 step 3/3" in r.stdout and "cycle" in r.stdout
    (entry,) = json.loads((tmp_path / "manifest.json").read_text())["translators"]
    assert entry["name"] == NAME and "CelebA" in entry["licence"]
    for role in ("forward", "backward"):
        assert (tmp_path / entry[role]["file"]).exists()
    figures = entry["metrics"]["held_out"]["directions"]
    assert set(figures) == {"smile", "unsmile"}
    for f in figures.values():
        assert 0 <= f["flipped"] <= 1 and 0 < f["cycle_l1"] < 1 and "Male" in f["others_kept"]
    assert (tmp_path / f"{NAME}-checkpoint.pt").exists()
    args = ("--resume", "--epochs", "3", "--time-limit", "0")  # one more epoch, then the time is up
    again = advlab("train", NAME, "--dry-run", "--out", str(tmp_path), *args, data_dir=faces_dir)
    assert again.returncode == 0, again.stderr
    assert "resumed from" in again.stdout and "epoch 2/3 step 3/3" in again.stdout
    assert "time limit of 0.0 s reached after epoch 2 of 3" in again.stdout


def test_a_missing_weights_file_leaves_the_translator_unavailable_not_the_app(tmp_path) -> None:
    spec = next(s for s in read_translators(ROOT / "models") if s.name == NAME)
    entry = load_translator(spec, tmp_path, torch.device("cpu"))  # no weights in tmp_path
    assert not entry.available and "missing" in (entry.reason or "")
    with pytest.raises(ModelUnavailable):
        Translators([entry]).get(NAME)
    with pytest.raises(NotFound):
        Translators([entry]).get("pix2pix")


def test_the_recorded_figures_hold_when_measured_again(faces_dir, settings) -> None:
    spec = next(s for s in read_translators(ROOT / "models") if s.name == NAME)
    recorded = spec.metrics["held_out"]
    assert recorded["faces"] == 1000 and spec.metrics["epochs"] >= 1
    assert recorded["judge_sha256"] == judge_checksum(settings, spec), (
        "dcgan-faces' classifier changed since the figures were measured: run advlab eval cyclegan-faces --record"
    )
    images, attrs = faces.load_faces(faces_dir, held_out=True)
    judge = judge_net(settings, spec, "cpu")
    again = measure(spec, ROOT / "models", judge, images[:300], attrs[:300], device="cpu", log=lambda _: None)
    for direction, f in again["directions"].items():
        # the first 300 of the 1,000 held-out faces: close to the recorded figures
        was = recorded["directions"][direction]
        assert abs(f["flipped"] - was["flipped"]) < 0.15 and abs(f["cycle_l1"] - was["cycle_l1"]) < 0.02


# --- the shipped weights over real HTTP -----------------------------------------------------------


def translate(live_server: str, **body) -> httpx.Response:
    return httpx.post(f"{live_server}/api/v1/translators/{NAME}", json=body, timeout=60)


def test_the_api_lists_it_with_its_figures(live_server) -> None:
    (info,) = httpx.get(f"{live_server}/api/v1/translators", timeout=30).json()
    assert info["name"] == NAME and info["available"] and info["directions"] == ["smile", "unsmile"]
    assert info["domains"] == ["not smiling", "smiling"] and info["side"] == 64 and "CelebA" in info["licence"]
    figures = info["metrics"]["held_out"]
    assert figures["faces"] == 1000 and set(figures["directions"]) == {"smile", "unsmile"}


def test_a_generated_face_goes_there_and_back(live_server) -> None:
    r = translate(live_server, direction="smile", generator="dcgan-faces", seed=0, index=3)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["step"] for p in body["pictures"]] == ["x", "G(x)", "F(G(x))"]
    assert (body["source_domain"], body["target_domain"]) == ("not smiling", "smiling")
    for p in body["pictures"]:
        assert 0 <= p["attribute_prob"] <= 1 and p["attributes"]["Smiling"] == p["attribute_prob"]
        png = httpx.get(live_server + p["image"]["url"], timeout=30)
        assert png.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(png.content)).size == (64, 64)
    assert 0 < body["cycle_l1"] < 0.3 and body["change_l1"] > 0
    again = translate(live_server, direction="smile", generator="dcgan-faces", seed=0, index=3).json()
    assert [p["image"]["id"] for p in again["pictures"]] == [p["image"]["id"] for p in body["pictures"]]


def test_an_upload_is_cut_to_a_square_and_translated_back(live_server) -> None:
    wide = Image.new("RGB", (300, 200), (200, 150, 120))  # a landscape picture: its centre square is kept
    buf = io.BytesIO()
    wide.save(buf, "PNG")
    files = {"file": ("wide.png", buf.getvalue(), "image/png")}
    image = httpx.post(f"{live_server}/api/v1/images", files=files, timeout=30).json()["id"]
    r = translate(live_server, direction="unsmile", image=image)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["image"] == image and body["pictures"][0]["image"]["width"] == 64
    assert (body["source_domain"], body["target_domain"]) == ("smiling", "not smiling")


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"direction": "smile"}, 422, "either"),
        ({"direction": "smile", "image": "sample:mnist-00003", "generator": "dcgan-faces"}, 422, "not both"),
        ({"direction": "grin", "generator": "dcgan-faces"}, 422, '"smile" or "unsmile"'),
        ({"direction": "smile", "generator": "dcgan-mnist"}, 422, "does not draw faces"),
        ({"direction": "smile", "generator": "stylegan"}, 404, "no generator"),
        ({"direction": "smile", "image": "sample:nope"}, 404, "no gallery sample"),
        ({"direction": "smile", "image": "0" * 64}, 404, ""),
        ({"direction": "smile", "generator": "dcgan-faces", "seed": -1}, 422, "seed"),
        ({"direction": "smile", "generator": "dcgan-faces", "strength": 2}, 422, "strength"),
    ],
)
def test_bad_requests_get_a_clear_4xx(live_server, body, status, says) -> None:
    r = translate(live_server, **body)
    assert r.status_code == status, r.text
    assert says in r.json()["detail"]


def test_bad_page_input_and_uploads_get_a_clear_4xx(live_server) -> None:
    unknown = httpx.post(f"{live_server}/api/v1/translators/pix2pix", json={"direction": "smile", "generator": "x"})
    assert unknown.status_code == 404 and NAME in unknown.json()["detail"]
    page = httpx.get(f"{live_server}/cyclegan?index=abc", timeout=30)
    assert page.status_code == 422 and "whole number" in page.text
    files = {"file": ("notes.png", b"not a picture at all", "image/png")}
    upload = httpx.post(f"{live_server}/cyclegan", data={"direction": "smile"}, files=files, timeout=30)
    assert 400 <= upload.status_code < 500 and "image" in upload.text.lower()
    empty = httpx.post(f"{live_server}/cyclegan", data={"direction": "smile"}, timeout=30)
    assert 400 <= empty.status_code < 500 and "Choose an image file" in empty.text


def test_the_page_shows_the_round_trip_and_the_figures(live_server) -> None:
    page = httpx.get(f"{live_server}/cyclegan?direction=unsmile&seed=0", timeout=60)
    assert page.status_code == 200, page.text
    assert page.text.count('width="192" height="192"') == 3 and "p(Smiling)" in page.text
    assert "cycle L1" in page.text and "held-out" in page.text and "CelebA" in page.text
    assert page.text.count('class="face') >= 12


# --- the page in Debian's Chromium ----------------------------------------------------------------


@pytest.mark.browser
def test_the_page_picks_a_face_turns_the_direction_and_takes_an_upload(page, live_server) -> None:
    page.goto(live_server + "/cyclegan")
    result = page.locator(".result.cycle img")
    assert result.count() == 3
    assert page.get_by_role("radio", name=re.compile("smile")).first.is_checked()
    with page.expect_response(re.compile(r"/cyclegan\?")):
        page.get_by_role("radio", name=re.compile("unsmile")).check()
    page.wait_for_url(re.compile(r"direction=unsmile"))
    assert "smiling → not smiling" in page.locator(".cycle-figures").inner_text()
    with page.expect_response(re.compile(r"/cyclegan\?")):
        page.locator("fieldset.face-strip a.face").nth(5).click()
    page.wait_for_url(re.compile(r"index=5"))
    assert page.locator("a.face.chosen").inner_text().startswith("#5")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.result.cycle img')].every(i => i.naturalWidth === 64)"
    )
    shown = page.locator(".p-attr").all_inner_texts()
    assert len(shown) == 3 and all(0 <= float(p) <= 1 for p in shown)
    assert float(page.locator(".cycle-l1").inner_text()) < 0.3
    face = io.BytesIO()
    Image.new("RGB", (90, 120), (210, 170, 140)).save(face, "PNG")
    page.set_input_files("#file", files=[{"name": "me.png", "mimeType": "image/png", "buffer": face.getvalue()}])
    with page.expect_response(re.compile(r"/cyclegan$")):
        page.get_by_role("button", name="Upload and translate").click()
    page.wait_for_url(re.compile(r"image=[0-9a-f]{64}.*direction=unsmile|direction=unsmile.*image=[0-9a-f]{64}"))
    page.wait_for_function(
        "() => [...document.querySelectorAll('.result.cycle img')].every(i => i.naturalWidth === 64)"
    )
    assert page.locator("a.face.chosen").count() == 0
