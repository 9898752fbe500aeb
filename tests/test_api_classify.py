"""Classification over HTTP with the real zoo."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import SQUEEZENET
from helpers import encode, photo_of_digit
from PIL import Image

from app.media import data

CAT_CLASSES = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}
needs_squeezenet = pytest.mark.skipif(not SQUEEZENET.exists(), reason="no local ImageNet weights")


def classify(client, model: str, image: str, **extra):
    return client.post("/api/v1/classify", json={"model": model, "image": image, **extra})


def test_models_lists_the_zoo_with_measured_accuracy(client) -> None:
    models = {m["name"]: m for m in client.get("/api/v1/models").json()}
    assert {"mnist-mlp", "mnist-cnn", "fashion-cnn", "imagenet-squeezenet"} <= set(models)
    assert models["mnist-mlp"]["metrics"]["test_accuracy"] >= 0.98
    assert models["mnist-cnn"]["metrics"]["test_accuracy"] >= 0.99
    assert models["fashion-cnn"]["metrics"]["test_accuracy"] >= 0.90
    for name in ("mnist-mlp", "mnist-cnn", "fashion-cnn"):
        m = models[name]
        assert m["available"] and m["input_shape"] == [1, 28, 28] and m["num_classes"] == 10
        assert m["metrics"]["command"].startswith(f"advlab train {name}")
    assert models["imagenet-squeezenet"]["num_classes"] == 1000


@pytest.mark.parametrize("model", ["mnist-mlp", "mnist-cnn"])
def test_gallery_digits_are_classified_correctly(client, model: str) -> None:
    digits = [s for s in client.get("/api/v1/samples").json() if s["kind"] == "digit"]
    correct = 0
    for s in digits:
        body = classify(client, model, f"sample:{s['id']}").json()
        assert body["true_label"] == s["label"]
        correct += body["predictions"][0]["index"] == s["label"]
    assert correct >= 0.95 * len(digits)


def test_result_shape_and_model_input(client) -> None:
    body = classify(client, "mnist-cnn", "sample:mnist-00000", top_k=3).json()
    preds = body["predictions"]
    assert len(preds) == 3 and preds[0]["label"] == "7" and preds[0]["index"] == 7
    assert preds[0]["prob"] >= preds[1]["prob"] >= preds[2]["prob"] and preds[0]["prob"] <= 1
    seen = body["model_input"]
    assert (seen["width"], seen["height"]) == (28, 28)
    im = Image.open(io.BytesIO(client.get(seen["url"]).content))
    assert im.size == (28, 28)


def test_same_request_same_answer(client) -> None:
    a = classify(client, "mnist-mlp", "sample:mnist-00001").json()
    b = classify(client, "mnist-mlp", "sample:mnist-00001").json()
    assert a == b


@pytest.mark.parametrize("model", ["mnist-mlp", "mnist-cnn"])
def test_a_photographed_handwritten_digit_is_read_like_mnist(client, model: str) -> None:
    """Dark ink on unevenly lit paper, large and off-centre, JPEG: preprocessing must undo all that."""
    samples = [s for s in client.get("/api/v1/samples").json() if s["kind"] == "digit"]
    correct = 0
    for i, s in enumerate(samples):
        digit = Image.open(io.BytesIO(client.get(s["url"]).content))
        up = client.post(
            "/api/v1/images", files={"file": ("p.jpg", encode(photo_of_digit(digit, i), "JPEG"), "image/jpeg")}
        )
        body = classify(client, model, up.json()["id"]).json()
        correct += body["predictions"][0]["index"] == s["label"]
    assert correct >= 0.95 * len(samples)


def test_a_product_photo_is_read_like_fashion_mnist(client, settings) -> None:
    """A dark garment photographed large on a light background, as Fashion-MNIST's sources were."""
    images, labels = data.load_split("fashion-mnist", settings.data_dir, train=False)
    picks = range(0, 10_000, 100)
    correct = 0
    for i in picks:
        item = Image.fromarray((images[i, 0].numpy() * 255).astype(np.uint8)).resize(
            (224, 224), Image.Resampling.BICUBIC
        )
        photo = np.full((320, 400), 245, dtype=np.uint8)
        photo[50:274, 100:324] = np.minimum(255 - np.asarray(item), 245)
        up = client.post(
            "/api/v1/images", files={"file": ("item.png", encode(Image.fromarray(photo), "PNG"), "image/png")}
        )
        body = classify(client, "fashion-cnn", up.json()["id"]).json()
        correct += body["predictions"][0]["index"] == int(labels[i])
    assert correct >= 0.85 * len(picks)


@needs_squeezenet
def test_chelsea_is_a_cat_and_coffee_is_espresso(client) -> None:
    cat = classify(client, "imagenet-squeezenet", "sample:chelsea").json()
    assert cat["predictions"][0]["label"] in CAT_CLASSES
    assert (cat["model_input"]["width"], cat["model_input"]["height"]) == (224, 224)
    coffee = classify(client, "imagenet-squeezenet", "sample:coffee").json()
    assert coffee["predictions"][0]["label"] == "espresso"


@needs_squeezenet
def test_uploaded_photo_file_is_classified(client) -> None:
    data = (SQUEEZENET.parents[1] / "samples" / "chelsea.png").read_bytes()
    image_id = client.post("/api/v1/images", files={"file": ("chelsea.png", data, "image/png")}).json()["id"]
    body = classify(client, "imagenet-squeezenet", image_id).json()
    assert body["predictions"][0]["label"] in CAT_CLASSES and body["true_label"] is None


@pytest.mark.parametrize(
    "payload, status, words",
    [
        ({"model": "nope", "image": "sample:mnist-00000"}, 404, "no model"),
        ({"model": "mnist-cnn", "image": "sample:nope"}, 404, "no gallery sample"),
        ({"model": "mnist-cnn", "image": "f" * 64}, 404, "upload it again"),
        ({"model": "mnist-cnn", "image": "/etc/passwd"}, 404, "not an image id"),
        ({"model": "mnist-cnn", "image": ""}, 422, "choose an image"),
        ({"model": "mnist-cnn"}, 422, "image"),
        ({"model": "mnist-cnn", "image": "sample:mnist-00000", "top_k": 0}, 422, "top_k"),
        ({"model": "mnist-cnn", "image": "sample:mnist-00000", "top_k": 50}, 422, "top_k"),
    ],
)
def test_bad_classify_requests(client, payload: dict, status: int, words: str) -> None:
    r = client.post("/api/v1/classify", json=payload)
    assert r.status_code == status
    assert words in r.json()["detail"]


def test_not_json_is_a_400_about_json(client) -> None:
    r = client.post("/api/v1/classify", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]


def test_healthz_and_openapi(client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/models", "/api/v1/classify", "/api/v1/images", "/api/v1/samples"} <= set(paths)
    assert client.get("/docs").status_code == 200
