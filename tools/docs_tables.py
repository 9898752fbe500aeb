"""Tables in the docs that are written from the code, so that they cannot drift from it.

    .venv/bin/python tools/docs_tables.py          # rewrite them in place
    .venv/bin/python tools/docs_tables.py --check  # exit 1 if one is out of date (make test runs this)

A table sits between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in its page. ``attacks``
(docs/guide.md): every attack of the registry with its norm, goals and parameter defaults.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.attacks import ATTACKS

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


TABLES = {"attacks": (ROOT / "docs" / "guide.md", attack_table)}


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
