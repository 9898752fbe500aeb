"""Shared fixtures: real models, real data from ../shared, a real app (in-process and on a port)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import ROOT, Settings
from app.main import Components, Services, create_app
from app.media import data

SHARED = ROOT.parent / "shared"
SQUEEZENET = SHARED / "weights" / "squeezenet1_1_caffe_imagenetnorm.pth"
SAMPLES = SHARED / "samples"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The project's data dir, with MNIST and Fashion-MNIST decompressed from ../shared/data."""
    target = ROOT / "data"
    if (SHARED / "data").is_dir():
        data.prepare_from(SHARED / "data", target)
    if not (target / "MNIST" / "raw" / "t10k-images-idx3-ubyte").exists():
        pytest.skip("MNIST is not available: ../shared/data is missing and nothing may be downloaded")
    return target


def local_weights() -> dict[str, Path]:
    return {"imagenet-squeezenet": SQUEEZENET} if SQUEEZENET.exists() else {}


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        image_store_dir=tmp_path_factory.mktemp("images"),
        jobs_dir=tmp_path_factory.mktemp("jobs"),
        local_weights=local_weights(),
        allow_downloads=False,
        max_upload_bytes=2 * 1024 * 1024,
        max_image_pixels=4_000_000,
        trusted_hosts=["testserver", "localhost", "127.0.0.1", "[::1]"],  # TestClient's requests name "testserver"
    )


@pytest.fixture(scope="session")
def client(settings: Settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def components(client: TestClient) -> Components:
    """The parts the app built at start-up: the models, the image store, the executor, the caches, ..."""
    return client.app.state.components


@pytest.fixture(scope="session")
def services(client: TestClient) -> Services:
    """The app's feature services, each built from the components it uses."""
    return client.app.state.services


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> str:
    """A real ``advlab serve`` process on a free port of 127.0.0.1, configured through ADVLAB_ variables."""
    port = _free_port()
    env = {
        **os.environ,
        "ADVLAB_IMAGE_STORE_DIR": str(tmp_path_factory.mktemp("live-images")),
        "ADVLAB_JOBS_DIR": str(tmp_path_factory.mktemp("live-jobs")),
        "ADVLAB_ALLOW_DOWNLOADS": "0",
        "ADVLAB_DATA_DIR": str(data_dir),
    }
    if SQUEEZENET.exists():
        env["ADVLAB_LOCAL_WEIGHTS"] = f"imagenet-squeezenet={SQUEEZENET}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )  # as `make run` serves, deadlines included
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError("the server did not become healthy")


# --- Debian's Chromium through Playwright, for the browser tests ---------------------------------


@pytest.fixture(scope="module")  # per module: Playwright's sync API holds an event loop while open
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    js = not request.node.get_closest_marker("nojs")
    context = browser.new_context(java_script_enabled=js, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    # Script errors, missing files and server errors. Expected, so not collected: 4xx answers to bad
    # input, and htmx reporting a request it aborted because a newer choice replaced it (hx-sync).
    expected = ("Failed to load resource", "htmx:sendAbort", "htmx:afterRequest")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console", lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith(expected) else None
    )
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status == 404 or r.status >= 500 else None)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"the page logged errors: {errors}"
