"""Annotated dependency aliases for the routes: the Lab container (what the services take), or the
one component a route itself uses (the model zoo, the job queue, the settings, ...), so that a route
names what it touches."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.gan.zoo import Generators
from app.media.store import ImageStore
from app.runtime.executor import Executor
from app.runtime.jobs import JobManager
from app.services import Lab, ResultCache
from app.web.templating import is_htmx
from app.zoo import Zoo


def get_lab(request: Request) -> Lab:
    return request.app.state.lab


def get_is_htmx(request: Request) -> bool:
    return is_htmx(request)


LabDep = Annotated[Lab, Depends(get_lab)]
IsHtmx = Annotated[bool, Depends(get_is_htmx)]
def get_settings(request: Request) -> Settings:
    return get_lab(request).settings


def get_zoo(request: Request) -> Zoo:
    return get_lab(request).zoo


def get_generators(request: Request) -> Generators:
    return get_lab(request).generators


def get_store(request: Request) -> ImageStore:
    return get_lab(request).store


def get_executor(request: Request) -> Executor:
    return get_lab(request).executor


def get_jobs(request: Request) -> JobManager:
    return get_lab(request).jobs


def get_results(request: Request) -> ResultCache:
    return get_lab(request).results


SettingsDep = Annotated[Settings, Depends(get_settings)]
ZooDep = Annotated[Zoo, Depends(get_zoo)]
GeneratorsDep = Annotated[Generators, Depends(get_generators)]
StoreDep = Annotated[ImageStore, Depends(get_store)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
ResultsDep = Annotated[ResultCache, Depends(get_results)]
