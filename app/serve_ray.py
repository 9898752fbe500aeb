"""AdvLab on Ray Serve: the same FastAPI app (``@serve.ingress``), one replica per GPU, autoscaled.

Each replica runs the whole app: pages, API, the models on its own GPU, and the executor that
batches concurrent requests (Ray's ``@serve.batch`` would batch within a replica too; ours already
does, with the same two knobs). Ray Serve routes requests between replicas, adds and removes them
with the load, and sheds load past its queue limits with a 503, as AdvLab does on one machine.

AdvLab setting        -> Ray Serve
ADVLAB_QUEUE_MAX      -> max_ongoing_requests per replica (work admitted to a replica's executor)
ADVLAB_QUEUE_MAX * 4  -> max_queued_requests (waiting in Ray's router; more get a 503)
ADVLAB_MAX_BATCH      -> target_ongoing_requests of the autoscaler (a full batch per replica)
ADVLAB_RAY_*          -> replicas (min, max), GPUs and CPUs per replica

Live GAN-lab sessions and running experiment jobs are held by the replica that started them:
with more than one replica, route their URLs to the same replica (see docs/operations.md).
"""

from __future__ import annotations

from app.config import Settings, get_settings
from app.main import create_app


def deployment_options(settings: Settings) -> dict:
    return {
        "ray_actor_options": {"num_gpus": settings.ray_gpus_per_replica, "num_cpus": settings.ray_cpus_per_replica},
        "max_ongoing_requests": settings.queue_max,
        "max_queued_requests": settings.queue_max * 4,
        "autoscaling_config": {
            "min_replicas": settings.ray_min_replicas,
            "max_replicas": settings.ray_max_replicas,
            "target_ongoing_requests": settings.max_batch,
        },
        "health_check_period_s": 10,
    }


def build(settings: Settings | None = None):
    """The Serve application: bind it with ``serve.run(build())``."""
    from ray import serve

    settings = settings or get_settings()
    fastapi_app = create_app(settings)

    @serve.deployment(name="advlab", **deployment_options(settings))
    @serve.ingress(fastapi_app)
    class AdvLab:
        """The FastAPI app above; its lifespan loads the models when the replica starts."""

    return AdvLab.bind()


def run(host: str = "127.0.0.1", port: int = 8000, address: str | None = None) -> None:
    """Start (or join, with ``address``) a Ray cluster and serve AdvLab on host:port until stopped.

    Ray's dashboard and job API stay off: nothing but AdvLab's own HTTP port is opened."""
    import ray
    from ray import serve

    ray.init(address=address, include_dashboard=False, configure_logging=False)
    serve.start(http_options={"host": host, "port": port})
    serve.run(build(), name="advlab", route_prefix="/", blocking=True)
