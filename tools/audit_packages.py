"""`make test`'s dependency audit: pip-audit over the installed packages, read for what it could not check.

pip-audit looks each installed version up in PyPI's vulnerability data. When a lookup fails (no
network, or a PyPI mirror without the per-version JSON API) it skips the package and still says
"No known vulnerabilities found": a silent green. So this script reads its JSON report:

* a known vulnerability fails the build (exit 1), naming the package and the fixed versions;
* packages it could not check, or no report at all, print a WARNING that says so plainly, and the
  tests go on (exit 0): an unreachable advisory service should not stop a student's `make test`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

SHOWN = 8  # package names listed in a warning before "and N more"


def run_pip_audit() -> tuple[dict | None, str]:
    """pip-audit's JSON report (None when it produced none) and its error output."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--skip-editable",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report),
            ],
            capture_output=True,
            text=True,
        )
        text = report.read_text() if report.exists() else ""
    return (json.loads(text) if text.strip() else None), proc.stderr


def judge(report: dict | None, stderr: str = "") -> tuple[bool, list[str]]:
    """(whether the build must fail, the lines to print) for a pip-audit JSON report."""
    if report is None:
        return False, [
            "WARNING: the installed packages were NOT audited: pip-audit could not reach PyPI's vulnerability data.",
            *stderr.strip().splitlines()[-3:],
        ]
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    unchecked = [d["name"] for d in deps if "could not be audited" in d.get("skip_reason", "")]
    lines = [
        f"VULNERABLE: {d['name']} {d['version']}: {v['id']} "
        f"(fixed in {', '.join(v.get('fix_versions') or []) or 'no release yet'})"
        for d in vulnerable
        for v in d["vulns"]
    ]
    if unchecked:
        names = ", ".join(unchecked[:SHOWN]) + (f" and {len(unchecked) - SHOWN} more" if len(unchecked) > SHOWN else "")
        lines.append(
            f"WARNING: {len(unchecked)} of {len(deps)} installed packages were NOT audited (PyPI's "
            f"vulnerability data did not answer for them): {names}."
        )
    if not lines:
        lines.append(f"pip-audit: {len(deps)} installed packages, no known vulnerabilities.")
    return bool(vulnerable), lines


def main() -> int:
    fail, lines = judge(*run_pip_audit())
    for line in lines:
        print(line, file=sys.stderr if fail or line.startswith("WARNING") else sys.stdout)
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
