"""The ASGI app: ``create_app(settings)`` for tests, ``app`` for ``uvicorn app.main:app``.

The composition root: start-up builds the components, then each feature's service from the ones it
uses, and keeps both in ``app.state`` for app/web/deps.py, which hands the routes what they name."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.config import ROOT, Settings, get_settings
from app.gan.lab import LabManager
from app.gan.translators import Translators
from app.gan.upscalers import Upscalers
from app.gan.zoo import Generators
from app.media.gallery import Gallery
from app.media.store import ImageStore
from app.routes import api, attacks, cycle, defenses, explain, gan, lecture, superres, web
from app.runtime.executor import Executor
from app.runtime.jobs import JobManager
from app.services import InputCache, ResultCache
from app.services.attacks import AttackService
from app.services.classify import ClassifierService
from app.services.cycle import TranslateService
from app.services.defenses import DefenseService
from app.services.experiments import ExperimentService
from app.services.explain import ExplainService
from app.services.gan import GanService
from app.services.gan_lab import GanLabService
from app.services.images import ImageService
from app.services.superres import UpscaleService
from app.web.http import BodyLimitMiddleware, RoundedJSONResponse, install_error_handlers
from app.web.security import CrossOriginGuardMiddleware, SecurityHeadersMiddleware, TrustedHostMiddleware
from app.zoo import Zoo

log = logging.getLogger("advlab")

# Multipart framing (boundaries, part headers, the model field) on top of the file itself.
MULTIPART_SLACK_BYTES = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Few threads for the CPU-bound work beside the model (decoding, PNG encoding, storing):
        # dozens of them would fight over the GIL with the model thread and slow everyone down.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        app.state.components = parts = build_components(settings)
        app.state.services = build_services(parts)
        parts.gan_lab.run_forever()
        parts.jobs.run_forever()
        yield
        await parts.jobs.close()
        await parts.gan_lab.close()
        parts.executor.shutdown()

    app = FastAPI(
        title="AdvLab",
        summary="See, poke and understand adversarial examples and GANs.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served from static/vendor by app/routes/api.py, not from a CDN
        redoc_url=None,
        default_response_class=RoundedJSONResponse,
    )
    # The last added runs first: headers go on every answer, even the guard's 403 and the 413.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes + MULTIPART_SLACK_BYTES)
    app.add_middleware(CrossOriginGuardMiddleware)
    app.add_middleware(TrustedHostMiddleware, hosts=settings.trusted_hosts)
    app.add_middleware(SecurityHeadersMiddleware)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.include_router(api.router)
    app.include_router(attacks.api)
    app.include_router(attacks.pages)
    app.include_router(web.router)
    app.include_router(explain.router)
    app.include_router(gan.router)
    app.include_router(superres.router)
    app.include_router(cycle.router)
    app.include_router(defenses.router)
    app.include_router(lecture.router)
    api.own_error_lists(app, attacks.typed_params)
    return app


@dataclass(frozen=True)
class Components:
    """The parts built once at start-up: the models, the pictures, the queues and the caches."""

    settings: Settings
    zoo: Zoo
    generators: Generators
    upscalers: Upscalers
    translators: Translators
    store: ImageStore
    gallery: Gallery
    executor: Executor
    gan_lab: LabManager
    jobs: JobManager
    inputs: InputCache
    results: ResultCache  # FGSM results and sweeps, GAN samples: pure functions of their requests


@dataclass(frozen=True)
class Services:
    """One service per feature, each given the components it uses (app/web/deps.py hands them to the routes)."""

    images: ImageService
    classifier: ClassifierService
    attacks: AttackService
    defenses: DefenseService
    experiments: ExperimentService
    explain: ExplainService
    gan: GanService
    gan_lab: GanLabService
    upscale: UpscaleService
    translate: TranslateService


def build_components(settings: Settings) -> Components:
    executor = Executor(
        settings.queue_max,
        settings.request_timeout_s,
        max_batch=settings.max_batch,
        max_wait_s=settings.batch_wait_ms / 1000,
        batching=settings.batching,
        torch_threads=settings.torch_threads,
    )
    zoo = executor.call(Zoo.load, settings)  # on the model thread: no other thread needs a team of its own
    generators = executor.call(Generators.load, settings, zoo.device)
    upscalers = executor.call(Upscalers.load, settings, zoo.device)
    translators = executor.call(Translators.load, settings, zoo.device)
    log.info(
        "models on %s: %s",
        zoo.device,
        ", ".join(f"{n}{'' if e.available else ' (unavailable)'}" for n, e in zoo.entries.items()),
    )
    return Components(
        settings=settings,
        zoo=zoo,
        generators=generators,
        upscalers=upscalers,
        translators=translators,
        store=ImageStore(
            settings.image_store_dir, settings.image_store_max_bytes, settings.image_store_client_max_bytes
        ),
        gallery=Gallery(settings.gallery_dir),
        executor=executor,
        gan_lab=LabManager(
            executor,
            settings.data_dir,
            max_sessions=settings.gan_lab_sessions,
            idle_s=settings.gan_lab_idle_s,
            max_steps=settings.gan_lab_max_steps,
        ),
        jobs=JobManager(
            executor,
            settings.jobs_dir,
            settings.models_dir / "experiments",
            max_queued=settings.jobs_max_queued,
            idle_s=settings.job_idle_s,
            deadline_s=settings.job_deadline_s,
        ),
        inputs=InputCache(settings.input_cache_bytes),
        results=ResultCache(settings.result_cache_entries),
    )


def build_services(c: Components) -> Services:
    images = ImageService(c.gallery, c.store, c.inputs, c.settings)
    classifier = ClassifierService(c.zoo, images, c.executor, c.settings)
    gan = GanService(c.generators, c.zoo, images, c.executor, c.results)
    return Services(
        images=images,
        classifier=classifier,
        attacks=AttackService(c.zoo, images, classifier, c.executor, c.results, c.settings),
        defenses=DefenseService(c.zoo, images, c.executor, c.settings),
        experiments=ExperimentService(c.zoo, c.jobs, c.settings),
        explain=ExplainService(c.zoo, images, c.executor),
        gan=gan,
        gan_lab=GanLabService(c.gan_lab, images, c.executor, c.results),
        upscale=UpscaleService(c.upscalers, c.zoo, c.generators, images, c.executor),
        translate=TranslateService(c.translators, c.generators, gan, images, c.executor, c.results),
    )


app = create_app()
