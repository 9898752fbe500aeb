"""The GAN studio over HTTP with the shipped generators: samples, arithmetic, interpolation,
concept vectors, exemplars, the page, and the generators' measured quality."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ROOT
from tests.test_cli import advlab

MNIST, FACES, COND = "dcgan-mnist", "dcgan-faces", "dcgan-mnist-cond"


def post(client, name, what, **body):
    return client.post(f"/api/v1/generators/{name}/{what}", json=body)


def ref(seed, index):
    return {"seed": seed, "index": index}


def test_the_generators_are_listed_with_their_quality(client) -> None:
    listed = {g["name"]: g for g in client.get("/api/v1/generators").json()}
    assert set(listed) == {MNIST, FACES, COND} and all(g["available"] for g in listed.values())
    assert [n for n, g in listed.items() if g["conditional"]] == [COND]
    assert listed[COND]["metrics"]["requested_share_all_judges"] > 0.9
    assert listed[MNIST]["image_shape"] == [1, 28, 28] and listed[MNIST]["labelled_by"] == "mnist-cnn"
    assert listed[FACES]["image_shape"] == [3, 64, 64] and "Eyeglasses" in listed[FACES]["labels"]
    assert "non-commercial" in listed[FACES]["licence"]
    assert 0 < listed[MNIST]["metrics"]["confident_share"] <= 1 and len(listed[MNIST]["metrics"]["class_shares"]) == 10
    assert listed[FACES]["metrics"]["frechet_distance"] > 0


def test_samples_are_a_pure_function_of_seed_and_index(client) -> None:
    grid = post(client, MNIST, "samples", seed=4, start=10, count=6).json()["samples"]
    assert [s["latent"]["index"] for s in grid] == list(range(10, 16))
    alone = post(client, MNIST, "samples", latents=[ref(4, 13)]).json()["samples"][0]
    assert alone["image"]["id"] == grid[3]["image"]["id"]  # the same picture, whatever else is in the batch
    assert post(client, MNIST, "samples", seed=4, start=10, count=6).json()["samples"] == grid
    digit = grid[0]
    assert digit["label"] in [str(d) for d in range(10)] and 0 <= digit["real"] <= 1
    assert sum(digit["probs"].values()) == pytest.approx(1, abs=1e-3)
    face = post(client, FACES, "samples", seed=0, count=1).json()["samples"][0]
    assert face["image"]["width"] == 64 and set(face["probs"]) >= {"Male", "Smiling", "Eyeglasses"}


def test_arithmetic_with_equal_a_and_b_returns_c(client) -> None:
    c = post(client, MNIST, "samples", latents=[ref(0, 5)]).json()["samples"][0]
    body = post(
        client,
        MNIST,
        "arithmetic",
        a=[ref(0, 1), ref(0, 2)],
        b=[ref(0, 2), ref(0, 1)],
        c=[ref(0, 5)],
        noise=0.3,
        seed=1,
    ).json()
    assert body["result"]["image"]["id"] == c["image"]["id"] and body["c"]["image"]["id"] == c["image"]["id"]
    hood = body["neighbourhood"]
    assert len(hood) == 9 and hood[4]["image"]["id"] == c["image"]["id"]
    assert len({s["image"]["id"] for s in hood}) == 9  # the noise moves the others


def test_interpolation_runs_from_start_to_end(client) -> None:
    ends = post(client, FACES, "samples", latents=[ref(2, 0), ref(2, 1)]).json()["samples"]
    body = post(client, FACES, "interpolate", start=ref(2, 0), end=ref(2, 1), steps=6).json()
    for path in ("lerp", "slerp"):
        assert len(body[path]) == 6
        assert body[path][0]["image"]["id"] == ends[0]["image"]["id"]
        assert body[path][-1]["image"]["id"] == ends[1]["image"]["id"]
    assert min(body["lerp_norms"]) < min(body["slerp_norms"])  # the straight line sags toward the origin
    assert body["typical_norm"] == pytest.approx(10.0)


def test_concept_vectors_push_samples_toward_their_concept(client) -> None:
    concepts = {c["name"]: c for c in client.get(f"/api/v1/generators/{MNIST}/concepts").json()["concepts"]}
    assert set(concepts) == {str(d) for d in range(10)} and all(c["members"] > 20 for c in concepts.values())
    moved = 0
    for index in range(8):
        strip = post(client, MNIST, "concept", latent=ref(0, index), concept="7", strengths=[0, 3]).json()["strip"]
        moved += strip[1]["probs"]["7"] > strip[0]["probs"]["7"]
    assert moved >= 7
    glasses = post(client, FACES, "concept", latent=ref(0, 3), concept="eyeglasses", strengths=[0, 2.5]).json()
    assert glasses["strip"][1]["probs"]["Eyeglasses"] > glasses["strip"][0]["probs"]["Eyeglasses"]


def test_exemplars_match_the_query(client) -> None:
    sevens = post(client, MNIST, "exemplars", want=["7"], count=3).json()["exemplars"]
    assert [s["label"] for s in sevens] == ["7", "7", "7"] and all(s["latent"]["seed"] == 1 for s in sevens)
    men_with_glasses = post(client, FACES, "exemplars", want=["Male", "Eyeglasses"], count=3).json()["exemplars"]
    for s in men_with_glasses:
        assert s["probs"]["Male"] > 0.5 and s["probs"]["Eyeglasses"] > 0.5


@pytest.mark.parametrize(
    "what, body, status, words",
    [
        ("samples", {"count": 65}, 422, "count"),
        ("samples", {"latents": [{"z": [0.1] * 7}]}, 422, "100 numbers"),
        ("samples", {"latents": [{"z": [50.0] * 100}]}, 422, "between -10 and 10"),
        ("samples", {"latents": [{"seed": 1}]}, 422, "seed and index"),
        ("samples", {"latents": [{"seed": 1, "index": 2, "z": [0] * 100}]}, 422, "not both"),
        ("arithmetic", {"a": [], "b": [{"seed": 0, "index": 0}], "c": [{"seed": 0, "index": 0}]}, 422, "a"),
        ("interpolate", {"start": {"seed": 0, "index": 0}, "end": {"seed": 0, "index": 1}, "steps": 99}, 422, "steps"),
        ("concept", {"latent": {"seed": 0, "index": 0}, "concept": "Wings"}, 422, "no concept"),
        ("concept", {"latent": {"seed": 0, "index": 0}, "concept": "7", "strengths": [9]}, 422, "between -5 and 5"),
        ("exemplars", {"want": ["purple"]}, 422, "no concept"),
    ],
)
def test_bad_input_is_a_4xx_with_a_message(client, what, body, status, words) -> None:
    r = post(client, MNIST, what, **body)
    assert r.status_code == status and words in r.json()["detail"], r.text


def test_one_latent_drawn_as_every_digit_keeps_its_style(client) -> None:
    r = post(client, COND, "digits", latents=[ref(3, 0), ref(3, 1)])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["classes"] == list(range(10)) and [len(row["samples"]) for row in body["rows"]] == [10, 10]
    labels = [[s["label"] for s in row["samples"]] for row in body["rows"]]
    hits = sum(label == str(c) for row in labels for c, label in enumerate(row))
    assert body["requested_share"] == hits / 20 and hits >= 17, labels  # 96.7% over 10,000 samples
    again = post(client, COND, "digits", latents=[ref(3, 1)], classes=[7]).json()
    assert again["rows"][0]["samples"][0]["image"]["id"] == body["rows"][1]["samples"][7]["image"]["id"]


def test_a_latent_walks_from_one_digit_to_another(client) -> None:
    r = post(client, COND, "class-path", latent=ref(3, 0), start=1, end=7, steps=6)
    assert r.status_code == 200, r.text
    frames = r.json()["frames"]
    digits = post(client, COND, "digits", latents=[ref(3, 0)], classes=[1, 7]).json()["rows"][0]["samples"]
    assert len(frames) == 6 and [frames[0]["label"], frames[-1]["label"]] == ["1", "7"]
    assert [frames[0]["image"]["id"], frames[-1]["image"]["id"]] == [s["image"]["id"] for s in digits]


@pytest.mark.parametrize(
    "name, what, body, status, words",
    [
        (MNIST, "digits", {"latents": [{"seed": 0, "index": 0}]}, 422, "not class-conditional"),
        (FACES, "class-path", {"latent": {"seed": 0, "index": 0}, "start": 1, "end": 2}, 422, "not class-conditional"),
        (COND, "digits", {"latents": [{"seed": 0, "index": 0}], "classes": [10]}, 422, "0 to 9"),
        (COND, "class-path", {"latent": {"seed": 0, "index": 0}, "start": 1, "end": 12}, 422, "end"),
        (COND, "digits", {"latents": []}, 422, "latents"),
    ],
)
def test_asking_for_a_digit_wrongly_is_a_4xx_with_a_message(client, name, what, body, status, words) -> None:
    r = post(client, name, what, **body)
    assert r.status_code == status and words in r.json()["detail"], r.text


def test_unknown_generator_is_404(client) -> None:
    r = post(client, "stylegan", "samples")
    assert r.status_code == 404 and MNIST in r.json()["detail"]


@pytest.mark.parametrize("name", [MNIST, FACES])
def test_the_pictures_come_first_and_judging_them_gives_what_a_full_decode_gives(client, name) -> None:
    pictures = post(client, name, "images", seed=11, start=3, count=5).json()["samples"]
    assert [s["latent"]["index"] for s in pictures] == list(range(3, 8))
    assert set(pictures[0]) == {"latent", "image"}  # no verdict, no labels: those follow
    judged = post(client, name, "samples", seed=11, start=3, count=5).json()["samples"]  # judges those pictures
    fresh = post(client, name, "samples", latents=[ref(11, i) for i in range(3, 8)]).json()["samples"]  # draws anew
    assert [s["image"]["id"] for s in judged] == [s["image"]["id"] for s in pictures]
    assert [s["image"]["id"] for s in fresh] == [s["image"]["id"] for s in pictures]
    assert [s["real"] for s in judged] == pytest.approx([s["real"] for s in fresh], abs=1e-4)
    assert [s["label"] for s in judged] == [s["label"] for s in fresh]
    assert post(client, name, "images", seed=11, count=65).status_code == 422


def test_the_studio_grid_shows_its_pictures_then_loads_their_labels(client) -> None:
    page = client.get(f"/gan?model={MNIST}&seed=6").text
    grid = page.split('id="gan-grid"')[1].split("</section>")[0]
    assert grid.count('class="gan-img') == 24 and grid.count('class="gan-label muted">…') == 24
    follow = re.search(r'hx-get="([^"]+)"', grid).group(1).replace("&amp;", "&")
    assert follow == f"/gan/grid?model={MNIST}&seed=6" and 'hx-trigger="load"' in grid
    judged = client.get(follow)
    assert judged.status_code == 200 and "<h1>" not in judged.text and "hx-get" not in judged.text
    labels = re.findall(r'class="gan-label">(\d)</span>', judged.text)
    sampled = post(client, MNIST, "samples", seed=6, count=24).json()["samples"]
    assert labels == [s["label"] for s in sampled]
    assert re.findall(r'src="([^"]+)"', judged.text) == re.findall(r'src="([^"]+)"', grid)  # nothing reloads
    no_js = re.search(r'<noscript><p><a href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert no_js == f"/gan?model={MNIST}&seed=6&labels=true"  # without JavaScript: the page with its labels
    labelled = client.get(no_js).text.split('id="gan-grid"')[1].split("</section>")[0]
    assert re.findall(r'class="gan-label">(\d)</span>', labelled) == labels and "hx-get" not in labelled
    assert client.get("/gan/grid?model=no-such-gan").status_code == 404
    assert client.get(f"/gan/grid?model={MNIST}&a=banana").status_code == 422


def test_explicit_latents_are_accepted(client) -> None:
    r = post(client, MNIST, "samples", latents=[{"z": [0.0] * 100}])
    assert r.status_code == 200 and r.json()["samples"][0]["latent"]["z"] == [0.0] * 100


def test_the_studio_page_keeps_its_state_in_the_url(client) -> None:
    page = client.get(f"/gan?model={MNIST}&seed=2&a=2.1&b=2.2&c=2.3&start=2.4&end=2.5&steps=5&focus=2.6&concept=3")
    assert page.status_code == 200
    text = page.text
    assert text.count('class="gan-img') >= 24 + 3 + 4 + 9 + 10 + 5
    assert "mean(A)" in text and "Straight line (lerp)" in text and "+3 (" in text
    assert f"/gan?model={MNIST}&amp;seed=2&amp;a=2.1&amp;a=2.0" in text  # "add to A" keeps everything else
    fragment = client.get(f"/gan?model={MNIST}&seed=2", headers={"HX-Request": "true"})
    assert "<h1>" not in fragment.text and "Samples of seed 2" in fragment.text
    bad = client.get(f"/gan?model={MNIST}&a=banana")
    assert bad.status_code == 422 and "seed.index" in bad.text


def test_the_studio_draws_digits_on_demand_for_a_conditional_generator(client) -> None:
    page = client.get(f"/gan?model={COND}&seed=3&focus=5.5&from_digit=2&to_digit=8")
    assert page.status_code == 200, page.text
    table = page.text.split('class="digit-table"')[1].split("</table>")[0]
    assert table.count('class="gan-img') == 40 and '<th scope="row">5.5</th>' in table  # the focus leads
    assert "<option selected>2</option>" in page.text and "from 2's to 8's" in page.text
    assert 'name="from_digit"' in page.text and "Digits on demand" not in client.get(f"/gan?model={MNIST}").text
    bad = client.get(f"/gan?model={COND}&to_digit=12")
    assert bad.status_code == 422 and "0 to 9" in bad.text


@pytest.mark.parametrize("name", [MNIST, FACES])
def test_the_default_edit_shows_something_the_sample_does_not_show_yet(client, name) -> None:
    (sample,) = post(client, name, "samples", latents=[ref(0, 4)]).json()["samples"]
    page = client.get(f"/gan?model={name}&focus=0.4").text
    chosen = re.search(r'<option value="([^"]+)" selected>', page.split('id="concept"')[1]).group(1)
    if name == FACES:
        assert sample["probs"][chosen] < 0.5  # e.g. not +Male on a face already Male
    else:
        assert chosen != sample["label"] and sample["probs"][chosen] == sorted(sample["probs"].values())[-2]


def test_faces_are_large_and_each_tile_has_one_menu_of_buttons(client) -> None:
    page = client.get(f"/gan?model={FACES}&a=0.1&b=0.2&c=0.3").text
    grid = page.split('class="gan-grid"')[1].split("</section>")[0]
    assert grid.count('width="128"') == 24 and grid.count('<details class="use">') == 24
    assert grid.count('class="button"') == 24 * 6  # A, B, C, from here, to here, edit
    assert 'alt="result' in page and 'width="256"' in page  # the arithmetic's result, twice a tile
    assert 'id="busy"' in page and 'role="status"' in page


def test_the_seed_example_fills_the_three_groups(client) -> None:
    r = client.get(f"/gan/fill?model={FACES}&seed_example=true", follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    assert all(len(re.findall(rf"[?&]{g}=1\.\d+", url)) == 3 for g in "abc")
    assert "mean(B)" in client.get(url).text


def test_generator_quality_matches_the_manifest_when_measured_again(data_dir) -> None:
    recorded = next(
        g for g in json.loads((ROOT / "models" / "manifest.json").read_text())["generators"] if g["name"] == MNIST
    )["metrics"]
    r = advlab("eval", MNIST, "--limit", "2000", data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    share = float(re.search(r"([\d.]+)% of 2000 samples with p >= 0.9", r.stdout).group(1))
    low, high = map(float, re.search(r"class shares ([\d.]+)% to ([\d.]+)%", r.stdout).groups())
    # The recorded 10,000-sample figures, with room for 2,000 samples' noise; the class-share target
    # (6-14% each) is met, the confident-share target (>= 90%) is not: the manifest says how far.
    assert abs(share - 100 * recorded["confident_share"]) <= 3
    assert low >= 5 and high <= 15


def test_the_conditional_generator_draws_what_the_manifest_says(data_dir) -> None:
    recorded = next(
        g for g in json.loads((ROOT / "models" / "manifest.json").read_text())["generators"] if g["name"] == COND
    )["metrics"]
    r = advlab("eval", COND, "--limit", "2000", data_dir=data_dir)
    assert r.returncode == 0, r.stderr
    share = float(re.search(r"([\d.]+)% of 2000 samples taken for the requested digit", r.stdout).group(1))
    assert abs(share - 100 * recorded["requested_share_all_judges"]) <= 2
