"""tools/audit_packages.py, which `make test` runs first: what fails the build and what only warns."""

from __future__ import annotations

from tools.audit_packages import judge, run_pip_audit


def dep(name: str, vulns=(), skip_reason: str | None = None) -> dict:
    d = {"name": name, "version": "1.0", "vulns": list(vulns)}
    if skip_reason:
        d = {"name": name, "skip_reason": skip_reason}
    return d


VULN = {"id": "GHSA-xxxx", "fix_versions": ["1.0.1"]}
NOT_FOUND = "Dependency not found on PyPI and could not be audited: x (1.0)"


def test_a_known_vulnerability_fails_the_build() -> None:
    fail, lines = judge({"dependencies": [dep("starlette", [VULN]), dep("jinja2")]})
    assert fail and lines == ["VULNERABLE: starlette 1.0: GHSA-xxxx (fixed in 1.0.1)"]


def test_packages_that_could_not_be_checked_warn_instead_of_passing_silently() -> None:
    fail, lines = judge(
        {
            "dependencies": [
                dep("torch", skip_reason=NOT_FOUND),
                dep("jinja2"),
                dep("advlab", skip_reason="distribution marked as editable"),
            ]
        }
    )
    assert not fail and len(lines) == 1
    assert lines[0].startswith("WARNING: 1 of 3 installed packages were NOT audited") and "torch" in lines[0]


def test_no_report_at_all_is_a_warning() -> None:
    fail, lines = judge(None, "requests.exceptions.ConnectionError: pypi.org unreachable\n")
    assert not fail and "NOT audited" in lines[0] and "ConnectionError" in lines[-1]


def test_a_clean_audit_says_so() -> None:
    assert judge({"dependencies": [dep("jinja2"), dep("pillow")]}) == (
        False,
        ["pip-audit: 2 installed packages, no known vulnerabilities."],
    )


def test_the_installed_pip_audit_accepts_our_flags() -> None:
    """The real pip-audit over this environment: a report (or none, offline), never a usage error."""
    report, stderr = run_pip_audit()
    assert "usage:" not in stderr and "error: unrecognized" not in stderr
    assert report is None or isinstance(report.get("dependencies"), list)
