"""Every benchmark and tool script imports (its main() is not run): a moved or renamed module that a
script still names fails here, not on the day someone runs the benchmark."""

from __future__ import annotations

import importlib.util

import pytest

from app.config import ROOT

SCRIPTS = sorted([*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "tools").glob("*.py")])


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_imports(path) -> None:
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        if exc.name.split(".")[0] == "app":
            raise
        pytest.skip(f"needs {exc.name} (an optional benchmark package)")
    assert hasattr(module, "main") or module.__doc__
