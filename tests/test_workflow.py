"""The workflows ghbootstrap writes: content, pinning, zizmor and GitHub's schema."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghbootstrap.delivery import file_step
from ghbootstrap.documents import trust_policy
from ghbootstrap.errors import UsageError
from ghbootstrap.pins import PINS
from ghbootstrap.plan import Action
from ghbootstrap.subjects import Scopes, build_subjects
from ghbootstrap.trusteval import may_assume
from ghbootstrap.workflow import (
    KEYS_TEMPLATE,
    OIDC_TEMPLATE,
    WorkflowFile,
    build_rotation_workflow,
    build_workflow,
    check_cron,
    filter_pattern,
)
from tests.github_filter import fires
from tests.workflow_checks import schema_check, severe, unpinned_uses, zizmor_findings

HOST = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{HOST}"
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
        # IAM's `*` takes `/` too: GitHub's `**`, so the workflow runs for release/1/hotfix
        "push": {"branches": ["main", "release/**"], "tags": ["v**"]},
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
    ("filters", "ref_name", "expected"),
    [
        # the cheat sheet's own examples
        (["feature/*"], "feature/my-branch", True),
        (["feature/*"], "feature/beta-a/my-branch", False),
        (["feature/**"], "feature/beta-a/my-branch", True),
        (["*feature"], "mona-feature", True),
        (["v2*"], "v2.9", True),
        (["v[12].[0-9]+.[0-9]+"], "v1.10.1", True),
        (["v[12].[0-9]+.[0-9]+"], "v3.0.0", False),
        (["*.jsx?"], "page.js", True),
        (["*.jsx?"], "page.jsx", True),
        (["**/README.md"], "README.md", True),
        (["**/README.md"], "js/README.md", True),
        # why a plain copy of an IAM pattern is wrong
        (["v?"], "v1", False),
        (["v?"], "v", True),
        (["a+b"], "a+b", False),
        (["a+b"], "aab", True),
        (["a\\+b"], "a+b", True),
        (["\\!x"], "!x", True),
    ],
)
def test_the_filter_matcher_follows_githubs_cheat_sheet(
    filters: list[str], ref_name: str, expected: bool
) -> None:
    assert fires(filters, ref_name) is expected


# IAM patterns (StringLike: `*` any run, `/` included) and ref names to try each on.
TRIGGER_PATTERNS = [
    "main",
    "a+b",
    "c++",
    "release/*",
    "feature/*/final",
    "x*/y",
    "*",
    "v*",
    "*.*",
    "a**b",
    "weird]",
    "!bang",
    "hot+fix/*",
    "a$b",
    "a.b",
    "*+*",
    "plus+",
]
REF_NAMES = [
    "main",
    "mainx",
    "a+b",
    "aab",
    "ab",
    "c++",
    "c+",
    "c+++",
    "release/1",
    "release/1/hotfix",
    "release",
    "feature/x/final",
    "feature/final",
    "feature/a/b/final",
    "x/y",
    "xa/y",
    "xy",
    "v1",
    "v",
    "v1/2",
    "1.2",
    "azzb",
    "a/b",
    "weird]",
    "weird",
    "!bang",
    "bang",
    "hot+fix/a",
    "hotfix/a",
    "hott+fix/a/b",
    "a$b",
    "a.b",
    "axb",
    "+",
    "plus+",
    "plus",
]


def _admits(trust: dict[str, Any], kind: str, ref_name: str) -> bool:
    sub = f"repo:Octo/Hello:ref:refs/{kind}/{ref_name}"
    return may_assume(trust, PROVIDER, HOST, {"sub": sub, "aud": "sts.amazonaws.com"})


@pytest.mark.parametrize("pattern", TRIGGER_PATTERNS)
@pytest.mark.parametrize("kind", ["heads", "tags"])
def test_triggers_fire_for_exactly_the_refs_the_trust_admits(kind: str, pattern: str) -> None:
    scopes = Scopes.parse(branches=[pattern]) if kind == "heads" else Scopes.parse(tags=[pattern])
    trust = trust_policy(
        PROVIDER, f"https://{HOST}", build_subjects("repo:Octo/Hello", scopes, "main")
    )
    push = yaml.safe_load(build_workflow(OIDC_TEMPLATE, "Octo/Hello", scopes, "main"))[True]
    filters = push["push"]["branches" if kind == "heads" else "tags"]
    wrong = [name for name in REF_NAMES if fires(filters, name) != _admits(trust, kind, name)]
    assert wrong == [], f"{pattern} -> {filters}"
    assert any(_admits(trust, kind, name) for name in REF_NAMES)


def test_the_default_branch_trigger_is_literal() -> None:
    push = yaml.safe_load(build_workflow(OIDC_TEMPLATE, "Octo/Hello", Scopes(), "a+b"))[True]
    assert push["push"] == {"branches": ["a\\+b"]}
    assert fires(push["push"]["branches"], "a+b")
    assert not fires(push["push"]["branches"], "aab")


@pytest.mark.parametrize(("option", "pattern"), [("--tag", "v?"), ("--branch", "release-?.x")])
def test_a_pattern_without_an_exact_trigger_is_refused(option: str, pattern: str) -> None:
    with pytest.raises(UsageError) as refused:
        filter_pattern(pattern, option)
    assert str(refused.value) == (
        f"{option} '{pattern}' has no exact workflow trigger: GitHub's filter syntax has no "
        "'any one character', so the workflow would not run for the refs the role admits: "
        "use '*' instead of '?', list the names, or pass --no-workflow"
    )


@pytest.mark.parametrize(
    "cron",
    [
        "17 4 * * 1",
        "*/15 * * * *",
        "0 0 1,15 * MON-FRI",
        "0 12 * JAN-MAR 0",
        "5 4 * * 7",
        # days only some months have: they come in those months
        "0 0 29 2 *",  # leap years
        "0 0 31 4,5 *",
        "0 0 31 */2 *",
        "0 0 30 1-3 *",
        "0 0 31 1/3 *",
        "0 0 5/10 2 *",
        # a weekday given too: cron runs on either, so February's Mondays
        "0 0 31 2 1",
        "0 0 30 FEB MON-FRI",
    ],
)
def test_valid_cron(cron: str) -> None:
    assert check_cron(cron) == cron


@pytest.mark.parametrize(
    "cron",
    [
        "0 0 31 2 *",
        "0 0 30 2 *",
        "0 0 30,31 FEB *",
        "0 0 31 4 *",
        "0 0 31 4,6,9,11 *",
        "0 0 31 4-6/2 *",
        "0 0 31 SEP *",
    ],
)
def test_a_schedule_on_a_day_that_never_comes_is_refused(cron: str) -> None:
    fields = cron.split()
    with pytest.raises(UsageError) as refused:
        check_cron(cron)
    assert str(refused.value) == (
        f"'{cron}' never runs: day {fields[2]} of month {fields[3]} never comes, so the key "
        "would never rotate: give a day of the month that comes, for example '17 4 1 * *' "
        "(the 1st, 04:17 UTC)"
    )


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


@pytest.mark.parametrize(
    "environment",
    ["prod #1", "prod: eu", "it's ${{ github.token }}", '"quoted" \\ back', "ü 😀", "a\u2028b"],
)
def test_rotation_command_reaches_bash_exactly_for_any_environment(environment: str) -> None:
    import shlex

    from tests.runner import evaluate

    arguments = ["--user-name", "ci user", "--region", "eu-west-1", "--environment", environment]
    text = build_rotation_workflow("Octo/Hello", "0 3 1 * *", arguments, environment)
    job = yaml.safe_load(text)["jobs"]["rotate"]
    empty = {"secrets": {}, "vars": {}}
    assert evaluate(job["environment"], empty) == environment
    command = evaluate(job["steps"][-1]["run"], empty)
    assert shlex.split(command) == ["ghbootstrap", "rotate", "Octo/Hello", *arguments]


def test_a_workflow_path_that_cannot_be_written_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked with os.access, which a test run as root cannot fail for real."""
    from ghbootstrap.workflow import check_file_path

    target = tmp_path / "ci" / "build.yml"
    assert check_file_path(target, "--workflow-path") == target
    denied: list[tuple[str, int]] = []

    def no_access(path: object, mode: int) -> bool:
        denied.append((str(path), mode))
        return False

    monkeypatch.setattr("ghbootstrap.workflow.os.access", no_access)
    with pytest.raises(UsageError) as refused:
        check_file_path(target, "--workflow-path")
    assert str(refused.value) == (
        f"--workflow-path {target} cannot be written: permission denied: "
        "give a path you may write, or --no-workflow"
    )
    assert denied == [(str(tmp_path), os.W_OK | os.X_OK)]
