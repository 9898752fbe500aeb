"""AdvLab through a local Ray Serve: the same app, served by a Ray replica behind Ray's HTTP proxy."""

from __future__ import annotations

import socket

import httpx
import pytest
from conftest import local_weights

from app.config import Settings

ray = pytest.importorskip("ray")
serve = pytest.importorskip("ray.serve")


@pytest.fixture(scope="module")
def ray_url(data_dir, tmp_path_factory):
    from app.serve_ray import build

    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    settings = Settings(
        data_dir=data_dir,
        image_store_dir=tmp_path_factory.mktemp("ray-images"),
        jobs_dir=tmp_path_factory.mktemp("ray-jobs"),
        local_weights=local_weights(),
        allow_downloads=False,
    )
    serve.run(build(settings), name="advlab", route_prefix="/")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()
        ray.shutdown()


def test_classify_and_fgsm_through_ray_serve(ray_url, client) -> None:
    body = {"model": "mnist-cnn", "image": "sample:mnist-00003"}
    via_ray = httpx.post(f"{ray_url}/api/v1/classify", json=body, timeout=60)
    assert via_ray.status_code == 200
    assert via_ray.json()["predictions"] == client.post("/api/v1/classify", json=body).json()["predictions"]
    attack = {**body, "params": {"eps": 0.3}}
    fgsm = httpx.post(f"{ray_url}/api/v1/attacks/fgsm", json=attack, timeout=60)
    assert fgsm.status_code == 200
    direct = client.post("/api/v1/attacks/fgsm", json=attack).json()
    assert fgsm.json()["adversarial"]["id"] == direct["adversarial"]["id"]  # the same picture, content-addressed
    assert httpx.get(f"{ray_url}{fgsm.json()['adversarial']['url']}", timeout=30).status_code == 200


def test_ray_options_follow_advlab_settings() -> None:
    from app.serve_ray import deployment_options

    options = deployment_options(Settings(queue_max=16, max_batch=8, ray_max_replicas=4, ray_gpus_per_replica=1))
    assert options["max_ongoing_requests"] == 16 and options["max_queued_requests"] == 64
    assert options["autoscaling_config"] == {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 8}
    assert options["ray_actor_options"]["num_gpus"] == 1
