"""Defenses: input transforms, the side-by-side verdicts, the robust model and the detector."""

from __future__ import annotations

import re

import pytest
import torch

from app.defenses.transforms import TRANSFORMS, bit_depth, jpeg, median
from tests.test_cli import advlab

DIGIT = "sample:mnist-00003"  # a 0


def test_bit_depth_keeps_two_to_the_bits_levels() -> None:
    x = torch.linspace(0, 1, 1000).view(1, 1, 10, 100)
    assert len(torch.unique(bit_depth(x, 3))) == 8 and len(torch.unique(bit_depth(x, 1))) == 2


def test_median_filter_removes_salt_noise_and_keeps_flat_areas() -> None:
    x = torch.full((1, 1, 9, 9), 0.5)
    noisy = x.clone()
    noisy[0, 0, 4, 4] = 1.0  # one hot pixel
    assert torch.equal(median(noisy, 3), x)


def test_jpeg_round_trip_stays_close_and_in_range() -> None:
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 0.2 + 0.4
    y = jpeg(x, 90)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1 and (y - x).abs().mean() < 0.05


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_api_for_a_digit_and_a_photo(client, name) -> None:
    for model, image in (("mnist-cnn", DIGIT), ("imagenet-squeezenet", "sample:chelsea")):
        r = client.post("/api/v1/defenses/transform", json={"model": model, "image": image, "transform": name})
        if r.status_code == 503:  # the ImageNet weights are not on this machine
            continue
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["value"] == TRANSFORMS[name].default and body["transformed"] and body["original"]


def test_transform_api_refuses_out_of_range_values(client) -> None:
    r = client.post(
        "/api/v1/defenses/transform", json={"model": "mnist-cnn", "image": DIGIT, "transform": "bits", "value": 9}
    )
    assert r.status_code == 422 and "1 to 8" in r.json()["detail"]


def test_the_attack_result_checks_the_transforms(client) -> None:
    page = client.get("/attack", params={"model": "mnist-cnn", "image": DIGIT, "attack": "pgd", "run": "1"})
    link = re.search(r'hx-get="(/defenses/transforms[^"]+)"', page.text).group(1).replace("&amp;", "&")
    fragment = client.get(link, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<h1>" not in fragment.text
    assert fragment.text.count("<tr>") == 1 + 4  # the header, the picture as it is, and three transforms
    assert "still fooled" in fragment.text  # PGD at ε = 0.3 fools mnist-cnn on this 0 ...
    full = client.get(link)
    assert full.status_code == 200 and "<h1>Input transforms</h1>" in full.text  # ... and works without JS


def test_verdicts_on_a_clean_digit(client) -> None:
    r = client.post("/api/v1/defenses/verdicts", json={"image": DIGIT, "craft": "none"})
    assert r.status_code == 200, r.text
    verdicts = {v["judge"]: v for v in r.json()["verdicts"]}
    assert not verdicts["mnist-cnn"]["fooled"] and not verdicts["mnist-cnn-robust"]["fooled"]
    assert not verdicts["mnist-detector"]["flagged"]


def test_the_robust_model_resists_what_fools_the_plain_one(client) -> None:
    fooled_plain = resisted = 0
    for i in (3, 2, 1, 18, 4):
        body = client.post(
            "/api/v1/defenses/verdicts", json={"image": f"sample:mnist-{i:05d}", "craft": "pgd", "eps": 0.3}
        ).json()
        v = {x["judge"]: x for x in body["verdicts"]}
        fooled_plain += v["mnist-cnn"]["fooled"]
        resisted += not v["mnist-cnn-robust"]["fooled"]
    assert fooled_plain == 5 and resisted >= 4


def test_the_detector_flags_pgd_and_the_adaptive_attack_gets_past_it_more_often(client) -> None:
    digits = [f"sample:mnist-{i:05d}" for i in (3, 2, 1, 18, 4, 8, 11, 0)]

    def flagged(craft: str) -> int:
        count = 0
        for d in digits:
            body = client.post("/api/v1/defenses/verdicts", json={"image": d, "craft": craft, "eps": 0.3}).json()
            count += next(v for v in body["verdicts"] if v["kind"] == "detector")["flagged"]
        return count

    plain, adaptive = flagged("pgd"), flagged("adaptive")
    assert plain >= 6 and adaptive < plain


def test_the_manifest_records_how_far_the_detector_holds(components) -> None:
    metrics = components.zoo.entry("mnist-detector").spec.metrics["detector"]
    assert metrics["test_images"] == 1000 and 0 <= metrics["false_alarm_rate"] < 0.1
    assert {r["attack"] for r in metrics["per_attack"]} >= {"fgsm", "pgd", "cw", "deepfool"}
    assert [a["eps"] for a in metrics["adaptive"]] == [0.1, 0.2, 0.3]


def test_detector_eval_command(data_dir) -> None:
    r = advlab("eval", "mnist-detector", "--limit", "20", data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    assert "false alarms on 20 clean test digits" in r.stdout and "adaptive PGD-100" in r.stdout


def test_the_defenses_page_without_js(client) -> None:
    page = client.get("/defenses", params={"image": DIGIT, "craft": "fgsm", "eps": "0.2"})
    assert page.status_code == 200 and page.text.count('<tr class="') == 2 + 1 + 3
