"""The project's own workflows (.github/workflows/): the same outside validators as the
workflows we write, and the properties CI and the release rely on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workflow_checks import schema_check, unpinned_uses, zizmor_findings

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ("ci.yml", "release.yml")
PUBLISH = "pypa/gh-action-pypi-publish@"


def load(name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def test_these_are_all_the_workflows() -> None:
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == sorted(NAMES)


def test_zizmor_finds_nothing() -> None:
    assert zizmor_findings(WORKFLOWS) == []


@pytest.mark.parametrize("name", NAMES)
def test_github_workflow_schema_accepts(name: str) -> None:
    result = schema_check(WORKFLOWS / name)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_pinned_to_a_full_sha_with_a_version(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    assert unpinned_uses(text) == []
    assert "uses:" in text


@pytest.mark.parametrize("name", NAMES)
def test_checkout_does_not_persist_credentials(name: str) -> None:
    checkouts = [
        step
        for job in load(name)["jobs"].values()
        for step in steps(job)
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts
    assert all(step["with"] == {"persist-credentials": False} for step in checkouts)


def test_ci_runs_make_test_on_pushes_and_pull_requests_for_each_python() -> None:
    workflow = load("ci.yml")
    assert workflow[True] == {"push": None, "pull_request": None}
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    assert "permissions" not in job
    assert job["strategy"]["matrix"] == {"python": ["3.11", "3.12", "3.13"]}
    setup = next(s for s in steps(job) if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"] == {"python-version": "${{ matrix.python }}"}
    assert steps(job)[-1]["run"] == "make test"


def test_make_test_runs_make_dist() -> None:
    """CI runs `make test`; the distributions are proven there, not only at release."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "$(MAKE) --no-print-directory dist" in recipe


def test_release_builds_once_then_publishes_through_trusted_publishing() -> None:
    workflow = load("release.yml")
    assert workflow[True] == {"release": {"types": ["published"]}}
    assert workflow["permissions"] == {}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    assert any(s.get("run") == "make dist" for s in steps(build))
    upload = next(s for s in steps(build) if s.get("uses", "").startswith("actions/upload-"))
    assert upload["with"]["name"] == "dist"

    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    download, release = steps(publish)
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"] == {"name": "dist", "path": "dist/"}
    assert release["uses"].startswith(PUBLISH)
    assert "with" not in release  # no password or token: PyPI trusts this job's OIDC token
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text()
    assert all(PUBLISH not in str(s.get("uses")) for s in steps(build))


def test_nothing_in_the_repository_is_a_symlink() -> None:
    """A symlink checks out as a text file where Git's core.symlinks is false (Windows)."""
    skip = {".git", ".venv", "dist", "build", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    links = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in skip]
        links += [
            Path(folder, name) for name in subfolders + files if Path(folder, name).is_symlink()
        ]
    assert links == []
