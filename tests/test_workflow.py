"""The workflows ghbootstrap writes: content, pinning, zizmor and GitHub's schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ghbootstrap.delivery import file_step
from ghbootstrap.errors import UsageError
from ghbootstrap.pins import PINS
from ghbootstrap.plan import Action
from ghbootstrap.subjects import Scopes
from ghbootstrap.workflow import (
    KEYS_TEMPLATE,
    OIDC_TEMPLATE,
    WorkflowFile,
    build_rotation_workflow,
    build_workflow,
    check_cron,
)
from tests.workflow_checks import schema_check, severe, unpinned_uses, zizmor_findings

SCOPES = {
    "default": Scopes(),
    "everything": Scopes.parse(
        branches=["main", "release/*"],
        tags=["v*"],
        environments=["prod"],
        pull_requests=True,
    ),
}


def rendered() -> dict[str, str]:
    out = {}
    for label, scopes in SCOPES.items():
        out[f"oidc-{label}"] = build_workflow(OIDC_TEMPLATE, "Octo/Hello", scopes, "main")
        out[f"keys-{label}"] = build_workflow(KEYS_TEMPLATE, "Octo/Hello", scopes, "main")
    out["rotate-repository"] = build_rotation_workflow("Octo/Hello", "17 4 * * 1", [], None)
    out["rotate-environment"] = build_rotation_workflow(
        "Octo/Hello", "0 3 1 * *", ["--user-name", "ci user", "--environment", "prod"], "prod"
    )
    return out


WORKFLOWS = rendered()


@pytest.fixture(scope="module")
def workflow_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("repo") / ".github" / "workflows"
    directory.mkdir(parents=True)
    for name, text in WORKFLOWS.items():
        (directory / f"{name}.yml").write_text(text)
    return directory


def load(name: str) -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load(WORKFLOWS[name])
    return document


def test_zizmor_finds_nothing_medium_or_high(workflow_dir: Path) -> None:
    findings = zizmor_findings(workflow_dir)
    assert severe(findings) == []
    assert findings == []


def test_zizmor_does_catch_an_unpinned_action(tmp_path: Path) -> None:
    """The check above can fail: zizmor really reads our files."""
    bad = tmp_path / "bad.yml"
    bad.write_text(WORKFLOWS["oidc-default"].replace(PINS["checkout"].uses, "actions/checkout@v7"))
    assert ("unpinned-uses", "High") in severe(zizmor_findings(bad))


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_github_workflow_schema_accepts(workflow_dir: Path, name: str) -> None:
    result = schema_check(workflow_dir / f"{name}.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(WORKFLOWS["oidc-default"].replace("runs-on: ubuntu-latest", "runs-on: 7"))
    assert schema_check(path).returncode != 0


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_action_is_pinned_to_a_full_sha_with_a_version(name: str) -> None:
    assert unpinned_uses(WORKFLOWS[name]) == []
    assert "uses:" in WORKFLOWS[name]


@pytest.mark.parametrize("name", [n for n in WORKFLOWS if not n.startswith("rotate")])
def test_checkout_does_not_persist_credentials(name: str) -> None:
    steps = load(name)["jobs"]["build-push"]["steps"]
    checkout = next(s for s in steps if s["uses"].startswith("actions/checkout@"))
    assert checkout["with"] == {"persist-credentials": False}


def test_oidc_job_permissions_and_role() -> None:
    workflow = load("oidc-default")
    job = workflow["jobs"]["build-push"]
    assert workflow["permissions"] == {}
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    configure = next(s for s in job["steps"] if "configure-aws-credentials" in s["uses"])
    assert configure["with"] == {
        "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
        "aws-region": "${{ vars.AWS_REGION }}",
    }
    push = job["steps"][-1]
    assert push["env"]["IMAGE_TAG"] == "${{ github.sha }}"
    assert "${{" not in push["run"]  # values reach the shell through env, never inline


def test_keys_job_uses_secrets_and_no_oidc_token() -> None:
    job = load("keys-default")["jobs"]["build-push"]
    assert job["permissions"] == {"contents": "read"}
    configure = next(s for s in job["steps"] if "configure-aws-credentials" in s["uses"])
    assert configure["with"] == {
        "aws-access-key-id": "${{ secrets.AWS_ACCESS_KEY_ID }}",
        "aws-secret-access-key": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
        "aws-region": "${{ vars.AWS_REGION }}",
    }


def test_triggers_follow_the_scopes() -> None:
    assert load("oidc-default")[True] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    everything = load("oidc-everything")
    assert everything[True] == {
        "push": {"branches": ["main", "release/*"], "tags": ["v*"]},
        "pull_request": None,
        "workflow_dispatch": None,
    }
    # a job in an environment gets that environment's `sub`, which the trust admits
    assert everything["jobs"]["build-push"]["environment"] == "prod"
    assert "environment" not in load("oidc-default")["jobs"]["build-push"]


def test_rotation_workflow_runs_the_tool_on_schedule() -> None:
    workflow = load("rotate-environment")
    assert workflow[True] == {"schedule": [{"cron": "0 3 1 * *"}], "workflow_dispatch": None}
    job = workflow["jobs"]["rotate"]
    assert job["environment"] == "prod"
    assert job["permissions"] == {}
    rotate = job["steps"][-1]
    assert rotate["run"] == (
        "ghbootstrap rotate Octo/Hello --user-name 'ci user' --environment prod"
    )
    assert rotate["env"]["GITHUB_TOKEN"] == "${{ secrets.GHBOOTSTRAP_GITHUB_TOKEN }}"


@pytest.mark.parametrize(
    "cron", ["17 4 * * 1", "*/15 * * * *", "0 0 1,15 * MON-FRI", "0 12 * JAN-MAR 0", "5 4 * * 7"]
)
def test_valid_cron(cron: str) -> None:
    assert check_cron(cron) == cron


@pytest.mark.parametrize(
    "cron",
    [
        "",
        "* * * *",
        "* * * * * *",
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "*/0 * * * *",
        "5-1 * * * *",
        "@daily",
        "0 0 * * FUNDAY",
        "a b c d e",
    ],
)
def test_invalid_cron_is_a_usage_error(cron: str) -> None:
    with pytest.raises(UsageError, match="is not a valid five-field cron expression"):
        check_cron(cron)


def test_workflow_file_is_created_kept_and_never_clobbered(tmp_path: Path) -> None:
    path = tmp_path / ".github" / "workflows" / "ecr.yml"
    content = WORKFLOWS["oidc-default"]
    wanted = WorkflowFile(str(path), content)
    step = file_step(wanted, force=False)
    assert step.change.action is Action.CREATE
    assert not path.exists()  # planning writes nothing
    assert step.apply is not None
    step.apply()
    assert path.read_text() == content
    assert file_step(wanted, force=False).change.action is Action.KEEP
    path.write_text("# mine\n")
    with pytest.raises(UsageError, match="refusing to overwrite"):
        file_step(wanted, force=False)
    assert path.read_text() == "# mine\n"
    forced = file_step(wanted, force=True)
    assert forced.change.action is Action.UPDATE
