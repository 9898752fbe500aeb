"""The layers import only downward (read from the code's own imports, with ast).

routes -> web -> services -> core libraries (attacks, zoo, gan, defenses, explain, labs, training),
runtime and media -> config, errors. The core libraries are pure torch + numpy: no web framework,
no web layer, no routes, no services and no API schemas. A module that breaks a rule fails here;
KNOWN is where a deliberate, temporary exception would be written down (there is none).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.config import ROOT

APP = ROOT / "app"
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn")
CORE = ("attacks", "zoo", "gan", "defenses", "explain", "labs", "training")
KNOWN: dict[str, set[str]] = {}  # module -> what it may still import against the rules (none left)


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names if node.module == "app"}
    return names


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (APP / pkg).rglob("*.py"))


def breaks(path: Path, forbidden: tuple[str, ...], name: str | None = None) -> list[str]:
    allowed = KNOWN.get(name or module_name(path), set())
    return sorted(
        name
        for name in imports(path)
        for bad in forbidden
        if (name == bad or name.startswith(bad + "."))
        and not any(name == a or name.startswith(a + ".") for a in allowed)
    )


@pytest.mark.parametrize("path", modules("media", "runtime"), ids=module_name)
def test_runtime_and_media_know_nothing_of_the_web_or_the_services(path) -> None:
    assert breaks(path, (*WEB_FRAMEWORKS, "app.web", "app.routes", "app.services", "app.schemas")) == []


@pytest.mark.parametrize("path", modules("services"), ids=module_name)
def test_services_import_no_routes_or_web_layer(path) -> None:
    assert breaks(path, ("app.routes", "app.web")) == []


@pytest.mark.parametrize("path", modules("schemas"), ids=module_name)
def test_api_schemas_import_no_framework_services_web_or_routes(path) -> None:
    assert breaks(path, (*WEB_FRAMEWORKS, "app.services", "app.web", "app.routes")) == []


@pytest.mark.parametrize("path", modules("web"), ids=module_name)
def test_the_web_layer_does_not_import_routes(path) -> None:
    assert breaks(path, ("app.routes",)) == []


@pytest.mark.parametrize("path", modules(*CORE), ids=module_name)
def test_core_libraries_import_no_web_framework_web_layer_routes_or_services(path) -> None:
    assert breaks(path, (*WEB_FRAMEWORKS, "app.web", "app.routes", "app.services", "app.schemas")) == []


def test_the_classifier_zoo_and_the_gan_package_do_not_import_each_other_in_a_loop() -> None:
    zoo = {name for path in modules("zoo") for name in imports(path)}
    assert not any(name == "app.gan" or name.startswith("app.gan.") for name in zoo)


def test_a_violation_is_caught(tmp_path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from fastapi import HTTPException\nfrom app.web import templating\nimport torch\n")
    assert breaks(bad, ("fastapi", "app.web"), name="app.attacks.bad") == ["app.web", "fastapi"]


def test_domain_errors_carry_no_http_status_and_the_web_layer_maps_each() -> None:
    from app import errors
    from app.web.http import STATUS, status_of

    kinds = [k for k in vars(errors).values() if isinstance(k, type) and issubclass(k, errors.AppError)]
    assert all(not hasattr(k, "status_code") and not hasattr(k, "headers") for k in kinds)
    assert all(
        status_of(k("x") if k is not errors.InvalidField else k("f", "x")) in (*STATUS.values(), 400) for k in kinds
    )
    assert status_of(errors.ImageGone("x")) == 404 and status_of(errors.InvalidField("eps", "x")) == 422
