"""Annotated dependency aliases for the routes: the feature services (built in app/main.py, each
given the components it uses), or the one component a route itself uses (the model zoo, the job
queue, the settings, ...), so that a route names what it touches."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.gan.lab import LabManager
from app.gan.zoo import Generators
from app.media.store import ImageStore
from app.runtime.executor import Executor
from app.runtime.jobs import JobManager
from app.services import ResultCache
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
from app.web.templating import is_htmx
from app.zoo import Zoo


def get_is_htmx(request: Request) -> bool:
    return is_htmx(request)


IsHtmx = Annotated[bool, Depends(get_is_htmx)]


# --- services -------------------------------------------------------------------------------------


def get_images(request: Request) -> ImageService:
    return request.app.state.services.images


def get_classifier(request: Request) -> ClassifierService:
    return request.app.state.services.classifier


def get_attacks(request: Request) -> AttackService:
    return request.app.state.services.attacks


def get_defenses(request: Request) -> DefenseService:
    return request.app.state.services.defenses


def get_experiments(request: Request) -> ExperimentService:
    return request.app.state.services.experiments


def get_explain(request: Request) -> ExplainService:
    return request.app.state.services.explain


def get_gan(request: Request) -> GanService:
    return request.app.state.services.gan


def get_gan_lab(request: Request) -> GanLabService:
    return request.app.state.services.gan_lab


def get_upscale(request: Request) -> UpscaleService:
    return request.app.state.services.upscale


def get_translate(request: Request) -> TranslateService:
    return request.app.state.services.translate


ImagesDep = Annotated[ImageService, Depends(get_images)]
ClassifierDep = Annotated[ClassifierService, Depends(get_classifier)]
AttacksDep = Annotated[AttackService, Depends(get_attacks)]
DefensesDep = Annotated[DefenseService, Depends(get_defenses)]
ExperimentsDep = Annotated[ExperimentService, Depends(get_experiments)]
ExplainDep = Annotated[ExplainService, Depends(get_explain)]
GanDep = Annotated[GanService, Depends(get_gan)]
GanLabDep = Annotated[GanLabService, Depends(get_gan_lab)]
UpscaleDep = Annotated[UpscaleService, Depends(get_upscale)]
TranslateDep = Annotated[TranslateService, Depends(get_translate)]


# --- components -----------------------------------------------------------------------------------


def get_settings(request: Request) -> Settings:
    return request.app.state.components.settings


def get_zoo(request: Request) -> Zoo:
    return request.app.state.components.zoo


def get_generators(request: Request) -> Generators:
    return request.app.state.components.generators


def get_store(request: Request) -> ImageStore:
    return request.app.state.components.store


def get_executor(request: Request) -> Executor:
    return request.app.state.components.executor


def get_jobs(request: Request) -> JobManager:
    return request.app.state.components.jobs


def get_gan_sessions(request: Request) -> LabManager:
    return request.app.state.components.gan_lab


def get_results(request: Request) -> ResultCache:
    return request.app.state.components.results


SettingsDep = Annotated[Settings, Depends(get_settings)]
ZooDep = Annotated[Zoo, Depends(get_zoo)]
GeneratorsDep = Annotated[Generators, Depends(get_generators)]
StoreDep = Annotated[ImageStore, Depends(get_store)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
GanSessionsDep = Annotated[LabManager, Depends(get_gan_sessions)]
ResultsDep = Annotated[ResultCache, Depends(get_results)]
