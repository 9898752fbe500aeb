"""The attack API over HTTP with the real zoo."""

from __future__ import annotations

import io

import pytest
from conftest import SQUEEZENET
from PIL import Image

from app.attacks import ATTACKS

DIGIT = "sample:mnist-00003"  # a 0


def attack(client, name: str, **body):
    return client.post(f"/api/v1/attacks/{name}", json={"model": "mnist-cnn", "image": DIGIT, **body})


def test_listing_has_every_attack_with_its_params_schema(client) -> None:
    listed = {a["name"]: a for a in client.get("/api/v1/attacks").json()}
    assert set(listed) == set(ATTACKS)
    pgd = listed["pgd"]
    assert pgd["norm"] == "linf" and pgd["targeted"] and pgd["untargeted"]
    assert pgd["params_schema"]["properties"]["eps"]["maximum"] == 1.0
    assert not listed["fooling-noise"]["untargeted"] and listed["jsma"]["max_features"] == 4096


def test_targeted_pgd_result_has_everything(client) -> None:
    r = attack(client, "pgd", target=3, params={"steps": 20})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] and body["after"][0]["label"] == "3" and body["before"][0]["label"] == "0"
    assert body["label"] == 0 and body["target"] == 3 and body["params"]["eps"] == 0.3
    assert body["norms"]["linf"] <= 0.3 + 1e-6 and body["norms"]["l0"] > 0 and body["norms"]["psnr"] > 0
    assert [s["step"] for s in body["trajectory"]] == list(range(21))
    assert body["trajectory"][-1]["target_prob"] > 0.5 > body["trajectory"][0]["target_prob"]
    assert body["snapshots"][-1]["step"] == 20
    for key in ("original", "perturbation", "adversarial"):
        im = Image.open(io.BytesIO(client.get(body[key]["url"]).content))
        assert im.size == (28, 28)
    assert body["survives_saving"]["success"]
    assert body["perturbation_scale"] == pytest.approx(0.5 / body["norms"]["linf"], rel=1e-3)


def test_same_request_same_result_and_seed_matters(client) -> None:
    a = attack(client, "fooling-noise", target=5, params={"steps": 20}, seed=1).json()
    b = attack(client, "fooling-noise", target=5, params={"steps": 20}, seed=1).json()
    c = attack(client, "fooling-noise", target=5, params={"steps": 20}, seed=2).json()
    assert a["adversarial"]["id"] == b["adversarial"]["id"] != c["adversarial"]["id"]
    assert a["original"]["id"] != c["original"]["id"]  # the noise it starts from


def test_an_earlier_result_can_be_attacked_again(client) -> None:
    first = attack(client, "fgsm", params={"eps": 0.05}).json()
    again = attack(client, "fgsm", params={"eps": 0.0}, image=first["adversarial"]["id"]).json()
    assert again["original"]["id"] == first["adversarial"]["id"]


def test_target_by_label(client) -> None:
    body = attack(client, "deepfool", target="7").json()
    assert body["target"] == 7 and body["target_label"] == "7"


@pytest.mark.parametrize(
    "name, body, status, words",
    [
        ("nope", {}, 404, "no attack"),
        ("fgsm", {"params": {"eps": 5}}, 422, "eps"),
        ("fgsm", {"params": {"epsilon": 0.1}}, 422, "epsilon"),
        ("pgd", {"params": {"steps": 100000}}, 422, "steps"),
        ("pgd", {"target": 10}, 422, "between 0 and 9"),
        ("pgd", {"target": "banana"}, 422, "no class"),
        ("fooling-noise", {}, 422, "needs a target"),
        ("fgsm", {"model": "nope"}, 404, "no model"),
        ("fgsm", {"image": "sample:nope"}, 404, ""),
        ("fgsm", {"seed": -1}, 422, "seed"),
    ],
)
def test_bad_requests_get_clear_4xx(client, name, body, status, words) -> None:
    r = attack(client, name, **body)
    assert r.status_code == status, r.text
    assert words.lower() in r.json()["detail"].lower()


@pytest.mark.skipif(not SQUEEZENET.exists(), reason="no local ImageNet weights")
def test_imagenet_fgsm_and_jsma_refusal(client) -> None:
    body = attack(client, "fgsm", model="imagenet-squeezenet", image="sample:chelsea", params={"eps": 0.02}).json()
    assert body["success"] and body["original"]["width"] == 224
    r = attack(client, "jsma", model="imagenet-squeezenet", image="sample:chelsea")
    assert r.status_code == 422 and "150,528" in r.json()["detail"]


def test_an_fgsm_request_asked_again_is_answered_from_the_kept_result(client, components) -> None:
    first = attack(client, "fgsm", params={"eps": 0.137}).json()
    runs, hits = components.executor.stats["runs"], components.results.stats["hits"]
    again = attack(client, "fgsm", params={"eps": 0.137}).json()
    assert again == first and components.executor.stats["runs"] == runs and components.results.stats["hits"] == hits + 1
    other = attack(client, "fgsm", params={"eps": 0.138}).json()
    assert other["params"]["eps"] == 0.138 and components.executor.stats["runs"] == runs + 1
    assert client.get("/healthz").json()["results"]["hits"] >= 1


def test_a_pgd_request_asked_again_is_answered_from_the_kept_result(client, components) -> None:
    body = {"target": 5, "params": {"steps": 7}, "seed": 3}
    first = attack(client, "pgd", **body).json()
    runs = components.executor.stats["runs"]
    assert attack(client, "pgd", **body).json() == first and components.executor.stats["runs"] == runs
    assert attack(client, "pgd", **{**body, "seed": 4}).json()["seed"] == 4
    assert components.executor.stats["runs"] == runs + 1
