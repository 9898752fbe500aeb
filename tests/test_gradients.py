"""The gradient view on real models: backprop against finite differences, the maps, the API, the page."""

from __future__ import annotations

import io

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from app.explain import gradients
from app.media import imaging
from tests.conftest import SQUEEZENET

HX = {"HX-Request": "true"}
DIGIT = "sample:mnist-00003"  # an MNIST test 0


def model_input(components, model: str, ref: str = DIGIT) -> torch.Tensor:
    entry, _ = components.zoo.model(model)
    seen = imaging.prepare(
        components.gallery.image(ref.removeprefix("sample:")), entry.spec.preprocess, entry.spec.input_shape
    )
    return imaging.image_to_tensor(seen).to(components.zoo.device)


def test_class_loss_is_cross_entropy() -> None:
    logits = torch.randn(5, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 4
    for cls in (0, 3, 9):
        expected = F.cross_entropy(logits, torch.full((5,), cls), reduction="none")
        assert torch.allclose(gradients.class_loss(logits, cls), expected, rtol=1e-12)


def test_class_loss_keeps_its_gradient_when_the_model_is_sure() -> None:
    """At p = 1 - 1e-9 float32 cross-entropy's gradient rounds away; this one keeps it."""
    logits = torch.tensor([[25.0, 4.0, 3.0]], requires_grad=True)
    (careful,) = torch.autograd.grad(gradients.class_loss(logits, 0).sum(), logits)
    (naive,) = torch.autograd.grad(F.cross_entropy(logits, torch.tensor([0])), logits)
    exact = torch.softmax(logits.detach().double(), 1)[0] - torch.tensor([1.0, 0, 0], dtype=torch.float64)
    assert naive[0, 0] == 0  # the float32 rounding this avoids
    assert torch.allclose(careful[0].double(), exact, rtol=1e-5)


def test_pick_pixels_is_seeded_distinct_and_inside() -> None:
    a, b = gradients.pick_pixels((3, 5, 7), 64, seed=4), gradients.pick_pixels((3, 5, 7), 64, seed=4)
    assert torch.equal(a, b) and a.shape == (64, 3)
    assert len({tuple(p) for p in a.tolist()}) == 64
    assert (a >= 0).all() and (a < torch.tensor([3, 5, 7])).all()
    assert not torch.equal(a, gradients.pick_pixels((3, 5, 7), 64, seed=5))


def test_the_input_gradient_leaves_the_model_untouched(components) -> None:
    _, model = components.zoo.model("mnist-cnn")
    before = [p.clone() for p in model.parameters()]
    loss, grad = gradients.input_gradient(model, model_input(components, "mnist-cnn"), 0)
    assert loss > 0 and grad.shape == (1, 28, 28) and grad.abs().sum() > 0
    assert not model.training
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_backprop_matches_finite_differences_on_the_mlp(components) -> None:
    _, model = components.zoo.model("mnist-mlp")
    check, _ = gradients.check_gradient(model, model_input(components, "mnist-mlp"), cls=0, k=64, seed=0)
    assert not check.kink.any()  # ReLU corners are rare at this step size
    assert check.relative_error.max() < 1e-3


def test_backprop_matches_finite_differences_on_the_cnn_where_the_loss_is_smooth(components) -> None:
    _, model = components.zoo.model("mnist-cnn")
    check, _ = gradients.check_gradient(model, model_input(components, "mnist-cnn"), cls=0, k=64, seed=0)
    smooth = ~check.kink
    assert smooth.sum() >= 5
    assert check.relative_error[smooth].max() < 1e-3
    # max-pooling ties on the flat black background: left and right slopes really differ there
    corners = check.kink
    assert corners.any()
    assert (gradients.relative_error(check.left, check.right)[corners] > gradients.KINK).all()


def test_backprop_of_a_wrong_class_matches_too(components) -> None:
    """A class the model rejects has a large loss and large gradients: the check must hold there as well."""
    _, model = components.zoo.model("mnist-mlp")
    check, _ = gradients.check_gradient(model, model_input(components, "mnist-mlp"), cls=6, k=32, seed=1)
    assert check.relative_error[~check.kink].max() < 1e-3


@pytest.mark.skipif(not SQUEEZENET.exists(), reason="needs the local ImageNet weights in ../shared")
def test_backprop_matches_finite_differences_on_squeezenet(components) -> None:
    _, model = components.zoo.model("imagenet-squeezenet")
    check, _ = gradients.check_gradient(
        model, model_input(components, "imagenet-squeezenet", "sample:chelsea"), cls=285, k=6, seed=0
    )
    assert check.relative_error[~check.kink].max() < 1e-3


def test_the_maps() -> None:
    grad = torch.tensor([[[-2.0, 0.0], [1.0, 4.0]]])  # (1, 2, 2)
    assert gradients.sign_map(grad).tolist() == [[[0.0, 0.5], [1.0, 1.0]]]
    heat, full = gradients.heatmap(grad, quantile=1.0)
    assert heat.size == (2, 2) and heat.mode == "RGB" and full == 4.0
    assert heat.getpixel((0, 0)) == (188, 55, 84)  # |g| = 2 is half of the full scale, 4
    assert heat.getpixel((1, 0)) == (0, 0, 4) and heat.getpixel((1, 1)) == (252, 255, 164)
    assert gradients.heatmap(torch.zeros(3, 2, 2))[0].getpixel((0, 0)) == (0, 0, 4)


def test_the_heatmap_clips_the_top_percent() -> None:
    grad = torch.linspace(-1, 1, 10_000).reshape(1, 100, 100)
    heat, full = gradients.heatmap(grad)
    assert full == pytest.approx(0.99, abs=1e-3)
    assert heat.getpixel((99, 99)) == heat.getpixel((98, 99)) == (252, 255, 164)  # clipped
    assert heat.getpixel((0, 50))[0] < 10  # the middle of the linspace: |g| near 0, near black


# --- API -----------------------------------------------------------------------------------------


def test_api_gradient_of_a_gallery_digit(client) -> None:
    r = client.post("/api/v1/gradients", json={"model": "mnist-cnn", "image": DIGIT})
    assert r.status_code == 200
    body = r.json()
    assert body["target_class"] == 0 and body["class_source"] == "true label" and body["predicted_class"] == 0
    assert body["k"] == 8 and len(body["checks"]) == 8 and body["h"] == gradients.H
    assert body["loss"] > 0 and 0 < body["target_prob"] <= 1
    assert body["max_relative_error"] is None or body["max_relative_error"] < 1e-3
    assert body["kinks"] == sum(row["kink"] for row in body["checks"])
    assert body["float32_relative_difference"] < 1e-2
    assert "pale yellow" in body["heatmap"]["scale"] and body["heatmap"]["max_abs"] >= body["heatmap"]["full_scale"] > 0
    for image in (body["heatmap"]["image"], body["sign_map"]["image"], body["model_input"]):
        png = client.get(image["url"])
        assert png.status_code == 200 and Image.open(io.BytesIO(png.content)).size == (28, 28)


def test_api_same_request_same_result(client) -> None:
    request = {"model": "mnist-mlp", "image": "sample:mnist-00001", "k": 5, "seed": 3, "target_class": 4}
    first, second = client.post("/api/v1/gradients", json=request), client.post("/api/v1/gradients", json=request)
    assert first.json() == second.json()
    assert first.json()["class_source"] == "requested" and first.json()["target_class"] == 4


def test_api_uses_the_top_class_when_the_label_is_unknown(client) -> None:
    body = client.post("/api/v1/gradients", json={"model": "mnist-cnn", "image": "sample:chelsea", "k": 1}).json()
    assert body["class_source"] == "top class" and body["target_class"] == body["predicted_class"]


@pytest.mark.parametrize(
    "request_body, words",
    [
        ({"k": 0}, "k"),
        ({"k": 65}, "k"),
        ({"seed": -1}, "seed"),
        ({"target_class": 10}, "0 to 9"),
        ({"target_class": -1}, "target_class"),
        ({"image": ""}, "choose an image"),
    ],
)
def test_api_refuses_bad_input_with_a_message(client, request_body, words) -> None:
    r = client.post("/api/v1/gradients", json={"model": "mnist-mlp", "image": DIGIT} | request_body)
    assert r.status_code == 422 and words in r.json()["detail"]


def test_api_unknown_model_or_image_is_a_404(client) -> None:
    assert client.post("/api/v1/gradients", json={"model": "nope", "image": DIGIT}).status_code == 404
    assert client.post("/api/v1/gradients", json={"model": "mnist-mlp", "image": "sample:nope"}).status_code == 404


# --- page ----------------------------------------------------------------------------------------


def test_page_without_a_pick_opens_with_an_example(client) -> None:
    html = client.get("/gradients").text
    assert '<form id="pick" method="get" action="/gradients"' in html and 'value="sample:mnist-00000"' in html
    assert "grad-result" in html and '" checked>' in html  # a suitable gallery digit, already computed


def test_page_permalink_renders_the_full_result(client) -> None:
    params = {"model": "mnist-cnn", "image": DIGIT, "k": "16", "seed": "2"}
    html = client.get("/gradients", params=params).text
    assert "<html" in html and 'id="grad-class">0<' in html and "Max relative error" in html
    check_table = html.split('class="grad-check"')[1].split("</table>")[0]
    assert check_table.count("<tr") == 17 and "h = 1e-05" in html  # a header and the 16 pixels
    assert client.get("/gradients", params=params).text == html


def test_page_as_htmx_returns_the_lab_block(client) -> None:
    html = client.get("/gradients", params={"model": "mnist-mlp", "image": DIGIT, "target": "3"}, headers=HX).text
    assert "<html" not in html and 'id="grad-class">3<' in html and 'hx-swap-oob="true"' in html
    assert '<option value="3" selected>' in html


@pytest.mark.parametrize(
    "params, status, words",
    [
        ({"model": "mnist-mlp", "image": DIGIT, "target": "seven"}, 422, "class number"),
        ({"model": "mnist-mlp", "image": DIGIT, "target": "12"}, 422, "0 to 9"),
        ({"model": "mnist-mlp", "image": DIGIT, "k": "100"}, 422, "k"),
        ({"model": "nope", "image": DIGIT}, 404, "no model"),
    ],
)
def test_page_refuses_bad_input_with_a_message(client, params, status, words) -> None:
    r = client.get("/gradients", params=params)
    assert r.status_code == status and "<html" in r.text and words in r.text


def test_upload_form_redirects_to_the_permalink(client) -> None:
    digit = Image.open(io.BytesIO(client.get("/api/v1/samples/mnist-00003.png").content))
    buf = io.BytesIO()
    digit.save(buf, format="PNG")
    r = client.post(
        "/gradients",
        data={"model": "mnist-mlp"},
        files={"file": ("d.png", buf.getvalue(), "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/gradients?model=mnist-mlp&image=")
    assert "Max relative error" in client.get(r.headers["location"]).text
