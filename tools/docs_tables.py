"""Tables in the docs that are written from the code, so that they cannot drift from it.

    .venv/bin/python tools/docs_tables.py          # rewrite them in place
    .venv/bin/python tools/docs_tables.py --check  # exit 1 if one is out of date (make test runs this)

A table sits between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in its page. ``attacks``
(docs/guide.md): every attack of the registry with its norm, goals and parameter defaults.
``settings`` (docs/operations.md): every ADVLAB_ variable of app/config.py with its default and
its field's description.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.attacks import ATTACKS
from app.config import ROOT as APP_ROOT
from app.config import Settings

NORMS = {"linf": "L∞", "l2": "L2", "l0": "L0"}


def attack_table() -> str:
    rows = ["| name | attack | norm | goal | parameters (defaults) |", "|---|---|---|---|---|"]
    for a in ATTACKS.values():
        goal = {(True, True): "both", (False, True): "targeted", (True, False): "untargeted"}[
            (a.supports_untargeted, a.supports_targeted)
        ]
        norm = "— (from noise)" if a.starts_from_noise else NORMS.get(a.norm, a.norm)
        defaults = ", ".join(f"`{k}` {_value(f.default)}" for k, f in a.Params.model_fields.items())
        paper = f" ({a.paper})" if a.paper else ""
        rows.append(f"| `{a.name}` | {a.title}{paper} | {norm} | {goal} | {defaults} |")
    return "\n".join(rows)


def _value(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)


def settings_table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        rows.append(f"| `ADVLAB_{name.upper()}` | {_setting(default)} | {field.description} |")
    return "\n".join(rows)


def _setting(v: object) -> str:
    """A default as the environment variable would spell it."""
    if isinstance(v, Path):
        return f"`{v.relative_to(APP_ROOT)}/`" if v.is_relative_to(APP_ROOT) else f"`{v}`"
    if isinstance(v, bool):
        return f"`{str(v).lower()}`"
    if isinstance(v, (list, tuple)):
        return f"`{','.join(map(str, v))}`" if v else "(none)"
    if isinstance(v, dict):
        return "(none)" if not v else f"`{v}`"
    if isinstance(v, int) and v >= 1024 * 1024 and v % (1024 * 1024) == 0:
        return f"`{v}` ({v // (1024 * 1024)} MiB)"
    if isinstance(v, float) and v.is_integer():
        return f"`{int(v)}`"
    return f"`{v}`"


TABLES = {
    "attacks": (ROOT / "docs" / "guide.md", attack_table),
    "settings": (ROOT / "docs" / "operations.md", settings_table),
}


def updated(text: str, name: str, table: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"no <!-- {name}:begin --> ... <!-- {name}:end --> markers")
    return pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)


def main(check: bool) -> int:
    stale = []
    for name, (path, make) in TABLES.items():
        text = path.read_text()
        new = updated(text, name, make())
        if new != text:
            stale.append(f"{path.relative_to(ROOT)} ({name})")
            if not check:
                path.write_text(new)
    if stale and check:
        print("out of date: " + ", ".join(stale) + "; run .venv/bin/python tools/docs_tables.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
