"""`status` reads the build workflow where the setup put it (`--workflow-path`), and the
repair it prints upgrades that file, never adds a second one at the default path.

`oidc` and `migrate` record a path that is not the default in the role's record; `keys`
records its path in the user's record. Each printed repair is run as printed through the
real entry point, the pull request merged, and the repository's workflows compared.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from ghbootstrap.subjects import Scopes
from ghbootstrap.workflow import KEYS_TEMPLATE, OIDC_TEMPLATE, build_file
from tests.checkouts import git_checkout
from tests.conftest import CliResult
from tests.fakes.github import FakeGitHub
from tests.printed import parse_as_printed

REPO = "Octo-Org/Hello-World"
TARGET = "octo-org/hello-world"
REGION = "us-east-1"
ROLE = "ghbootstrap-octo-org-hello-world"
CUSTOM = ".github/workflows/build.yml"
DEFAULT = ".github/workflows/ecr-build-push.yml"
V010 = Path(__file__).parent / "data" / "v0.1.0"


def workflows(fake: FakeGitHub) -> dict[str, bytes]:
    """The workflow files on the default branch."""
    return {
        path: text
        for path, text in fake.repo(REPO).files.items()
        if path.startswith(".github/workflows/")
    }


def role_record(iam_name: str = ROLE) -> list[str]:
    iam = boto3.client("iam", region_name=REGION)
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=iam_name)["Tags"]}
    return sorted(v for k, v in tags.items() if k.startswith("ghbootstrap:scopes"))


def problems(result: CliResult) -> list[str]:
    return [line for line in result.out.splitlines() if line.startswith("problem: ")]


def printed_fix(problem: str) -> list[str]:
    words = shlex.split(problem.split("run `")[1].rstrip("`"))
    assert words[0] == "ghbootstrap"
    return words[1:]


def assert_current_at(cli: Callable[..., CliResult], path: str) -> None:
    """status is clean, and read the build workflow at `path`."""
    checked = cli("status", TARGET)
    assert checked.code == 0, checked.out
    assert f"  ok       workflow           {path} (main)  (current)\n" in checked.out


def role_change(result: CliResult) -> tuple[str, str] | None:
    changes = json.loads(result.out)["resources"]
    found = [c for c in changes if c["resource"] == "IAM role"]
    return (found[0]["action"], found[0].get("detail", "")) if found else None


def test_an_older_rendering_at_the_custom_path_is_drift_and_its_repair_upgrades_that_file(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    here: Path,
) -> None:
    assert cli("oidc", TARGET, "--open-pr", "--workflow-path", CUSTOM).code == 0
    fake_github.merge(REPO, 1)
    assert list(workflows(fake_github)) == [CUSTOM]
    assert cli("status", TARGET).code == 0

    fake_github.repo(REPO).files[CUSTOM] = (V010 / "oidc-default.yml").read_bytes()
    drifted = cli("status", TARGET)
    assert drifted.code == 3, drifted.out
    assert problems(drifted) == [
        f"problem: workflow {CUSTOM} (main): an earlier ghbootstrap rendering: upgrade it: "
        f"run `ghbootstrap oidc {TARGET} --region {REGION} --open-pr --workflow-path {CUSTOM}`"
    ]
    [problem] = problems(drifted)
    with pytest.MonkeyPatch.context() as parsing:  # the combination is accepted as printed
        parsed = parse_as_printed(problem.split("run `")[1].rstrip("`"), parsing)
    assert (parsed.request.workflow_path, parsed.request.open_pr) == (Path(CUSTOM), True)

    assert cli(*printed_fix(problem)).code == 0
    fake_github.merge(REPO, 2)
    current = build_file(CUSTOM, OIDC_TEMPLATE, REPO, Scopes(), "main").content
    assert workflows(fake_github) == {CUSTOM: current.encode()}  # one, where it was
    assert_current_at(cli, CUSTOM)


def test_triggers_the_role_outgrew_at_the_custom_path_are_drift_and_repaired_there(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    here: Path,
) -> None:
    """A scope added with --no-workflow (as `explain`'s fix does) keeps the recorded path:
    status reads that file, sees its triggers lag, and its repair upgrades it."""
    setup = ["oidc", TARGET, "--branch", "main"]
    assert cli(*setup, "--open-pr", "--workflow-path", CUSTOM).code == 0
    fake_github.merge(REPO, 1)
    added = cli("oidc", TARGET, "--branch", "dev", "--branch", "main", "--no-workflow", "--json")
    assert added.code == 0
    assert f"workflow={CUSTOM}" in role_record()[0]

    drifted = cli("status", TARGET)
    assert drifted.code == 3, drifted.out
    assert problems(drifted) == [
        f"problem: workflow {CUSTOM} (main): it runs for branch main, and the role admits "
        f"branch dev, branch main: upgrade it: run `ghbootstrap oidc {TARGET} --region "
        f"{REGION} --branch dev --branch main --open-pr --workflow-path {CUSTOM}`"
    ]
    assert cli(*printed_fix(problems(drifted)[0])).code == 0
    fake_github.merge(REPO, 2)
    assert list(workflows(fake_github)) == [CUSTOM]
    assert b'branches: ["dev", "main"]' in workflows(fake_github)[CUSTOM]
    assert cli("status", TARGET).code == 0


def test_a_keys_setup_is_read_at_its_recorded_path_and_repaired_there(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    here: Path,
) -> None:
    assert cli("keys", TARGET, "--open-pr", "--workflow-path", CUSTOM).code == 0
    fake_github.merge(REPO, 1)
    fake_github.repo(REPO).files[CUSTOM] = (V010 / "keys-default.yml").read_bytes()

    drifted = cli("status", TARGET)
    assert drifted.code == 3, drifted.out
    assert problems(drifted) == [
        f"problem: workflow {CUSTOM} (main): an earlier ghbootstrap rendering: upgrade it: "
        f"run `ghbootstrap keys {TARGET} --region {REGION} --open-pr --workflow-path {CUSTOM}`"
    ]
    assert cli(*printed_fix(problems(drifted)[0])).code == 0
    fake_github.merge(REPO, 2)
    current = build_file(CUSTOM, KEYS_TEMPLATE, REPO, Scopes(), "main").content
    assert workflows(fake_github) == {CUSTOM: current.encode()}
    assert cli("status", TARGET).code == 0


def test_migrate_records_the_keys_workflow_path_in_the_role(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    here: Path,
) -> None:
    """After migrate (phase one) the role and the user both exist: status reads the
    OIDC workflow migrate wrote over the keys workflow, at the path `keys` recorded."""
    assert cli("keys", TARGET, "--open-pr", "--workflow-path", CUSTOM).code == 0
    fake_github.merge(REPO, 1)
    assert cli("migrate", TARGET, "--open-pr").code == 0
    fake_github.merge(REPO, 2)
    assert f"workflow={CUSTOM}" in role_record()[0]
    assert list(workflows(fake_github)) == [CUSTOM]

    assert_current_at(cli, CUSTOM)


def test_only_a_path_other_than_the_default_is_recorded_and_a_rerun_changes_nothing(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    here: Path,
) -> None:
    assert cli("oidc", TARGET, "--open-pr").code == 0
    fake_github.merge(REPO, 1)
    recorded = role_record()
    assert not any("workflow=" in v for v in recorded)
    # a setup at the default path: a re-run changes nothing, its record included
    assert role_change(cli("oidc", TARGET, "--open-pr", "--json")) == ("no change", "")
    assert role_record() == recorded

    moved = cli("oidc", TARGET, "--open-pr", "--workflow-path", CUSTOM, "--json")
    assert role_change(moved) == ("update", "its record of this setup differs")
    assert f"workflow={CUSTOM}" in role_record()[0]
    for again in (["--open-pr", "--workflow-path", CUSTOM], ["--no-workflow"]):
        assert role_change(cli("oidc", TARGET, *again, "--json")) == ("no change", ""), again
    # back at the default path: the record drops the path again
    back = cli("oidc", TARGET, "--open-pr", "--json")
    assert role_change(back) == ("update", "its record of this setup differs")
    assert role_record() == recorded


def test_a_local_file_is_recorded_only_when_the_checkout_is_the_repositorys(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rule `keys` uses: a file inside a checkout of OWNER/REPO has a known path in the
    repository; a file elsewhere does not, and the record keeps what it had."""
    checkout = git_checkout(tmp_path / "hello-world", REPO)
    monkeypatch.chdir(checkout)
    (checkout / "ci").mkdir()
    assert cli("oidc", TARGET, "--workflow-path", str(checkout / "ci" / "build.yml")).code == 0
    assert "workflow=ci/build.yml" in role_record()[0]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    unknown = cli("oidc", TARGET, "--workflow-path", str(elsewhere / "build.yml"), "--json")
    assert unknown.code == 0
    assert role_change(unknown) == ("no change", "")
    assert "workflow=ci/build.yml" in role_record()[0]


def test_an_apply_entry_with_a_workflow_path_records_it_and_status_reads_it_there(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checkout = git_checkout(tmp_path / "hello-world", REPO)
    (checkout / "ci").mkdir()
    local = checkout / "ci" / "build.yml"
    file = tmp_path / "fleet.toml"
    file.write_text(
        f'[[repository]]\nname = "{TARGET}"\nregion = "{REGION}"\nworkflow = "{local}"\n'
    )
    monkeypatch.chdir(tmp_path)
    done = cli("apply", str(file))
    assert done.code == 0, done.out + done.err
    assert "workflow=ci/build.yml" in role_record()[0]

    # committed and pushed as the file is: status reads it at that path
    fake_github.repo(REPO).files["ci/build.yml"] = local.read_bytes()
    assert_current_at(cli, "ci/build.yml")


def test_a_workflow_repair_carries_force_when_a_variable_someone_changed_needs_it(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    here: Path,
) -> None:
    """Every repair status prints is one command: when the variable's repair needs --force, the
    workflow's does too, or run as printed it would stop at that variable."""
    assert cli("oidc", TARGET, "--open-pr", "--workflow-path", CUSTOM).code == 0
    fake_github.merge(REPO, 1)
    fake_github.repo(REPO).files[CUSTOM] = (V010 / "oidc-default.yml").read_bytes()
    fake_github.repo(REPO).scope.variables["AWS_REGION"]["value"] = "eu-west-1"  # someone's

    drifted = cli("status", TARGET)
    assert drifted.code == 3, drifted.out
    setup = f"ghbootstrap oidc {TARGET} --region {REGION}"
    assert problems(drifted) == [
        f"problem: GitHub variable AWS_REGION ({REPO}): is 'eu-west-1', not '{REGION}': run "
        f"`{setup} --no-workflow --force`",
        f"problem: workflow {CUSTOM} (main): an earlier ghbootstrap rendering: upgrade it: "
        f"run `{setup} --open-pr --workflow-path {CUSTOM} --force`",
    ]
    assert cli(*printed_fix(problems(drifted)[1])).code == 0
    fake_github.merge(REPO, 2)
    assert fake_github.repo(REPO).scope.variables["AWS_REGION"]["value"] == REGION
    assert_current_at(cli, CUSTOM)


def test_no_workflow_repair_where_no_setup_command_repairs(
    cli: Callable[..., CliResult],
    moto: None,
    fake_github: FakeGitHub,
    here: Path,
) -> None:
    """A trust changed by hand: `oidc` refuses it without --force, and --force would undo
    the edit, so status prints no command, for the workflow either."""
    assert cli("oidc", TARGET, "--open-pr", "--workflow-path", CUSTOM).code == 0
    fake_github.merge(REPO, 1)
    fake_github.repo(REPO).files[CUSTOM] = (V010 / "oidc-default.yml").read_bytes()
    iam = boto3.client("iam", region_name=REGION)
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:actor"
    ] = "octocat"
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(trust))

    drifted = cli("status", TARGET, "--json")
    assert drifted.code == 3, drifted.out
    workflow = next(c for c in json.loads(drifted.out)["checks"] if c["resource"] == "workflow")
    assert (workflow["state"], workflow["fix"]) == ("drift", "")
    assert "run `" not in cli("status", TARGET).out
