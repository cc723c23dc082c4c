"""`apply` with `method = "migrate"` entries, and `apply --finish`: migrate's two phases for
many repositories, each entry on its own, with one question for the second."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from tests.conftest import REGION, AwsCalls, CliResult
from tests.fakes.github import FakeGitHub
from tests.test_apply import recorded  # noqa: F401 - a fixture

Cli = Callable[..., CliResult]
BUILD = ".github/workflows/ecr-build-push.yml"
FILE = """
[[repository]]
name = "acme/api"
method = "migrate"
region = "us-east-1"

[[repository]]
name = "acme/batch"
method = "migrate"
user_name = "ci-batch"
"""


@pytest.fixture
def setups(
    moto: None, fake_github: FakeGitHub, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeGitHub:
    """Two key setups ghbootstrap made: one in the repository, with its workflow on the
    default branch; one in an environment, with a custom user name and no workflow."""
    monkeypatch.chdir(tmp_path)
    fake_github.add_repo("acme/api")
    fake_github.add_repo("acme/batch")
    assert cli("keys", "acme/api", "--open-pr").code == 0
    fake_github.merge("acme/api", 1)
    made = cli(
        "keys", "acme/batch", "--environment", "ci", "--user-name", "ci-batch", "--no-workflow"
    )
    assert made.code == 0, made.err
    (tmp_path / "retire.toml").write_text(FILE)
    return fake_github


def users() -> list[str]:
    iam = boto3.client("iam", region_name=REGION)
    return sorted(u["UserName"] for u in iam.list_users()["Users"])


def test_both_phases_for_a_file(
    cli: Cli,
    setups: FakeGitHub,
    recorded: AwsCalls,  # noqa: F811
    tmp_path: Path,
) -> None:
    first = cli("apply", "retire.toml")
    assert first.code == 0, first.out + first.err
    assert first.out.split("\nSummary\n")[1] == (
        "  changed    acme/api    4 created\n"
        "  changed    acme/batch  7 created\n"
        "2 repositories: 2 changed.\n"
    )
    assert recorded.names.count("iam.CreateOpenIDConnectProvider") == 1  # settled once
    for name in ("acme/api", "acme/batch"):
        [*_, pull] = setups.repo(name).pulls
        assert (pull.state, pull.head) == ("open", "ghbootstrap/ecr-build-push")
    assert setups.secret("acme/batch", "AWS_ACCESS_KEY_ID", "ci") is not None  # CI keeps it
    assert users() == ["ci-batch", "ghbootstrap-acme-api"]

    mark, github_mark = len(recorded.names), len(setups.writes())
    again = cli("apply", "retire.toml")
    assert again.code == 0, again.err
    assert recorded.writes_since(mark) == []
    assert setups.writes()[github_mark:] == []

    # Too early: nothing is removed, each entry says why and how to finish it alone.
    early = cli("apply", "--finish", "retire.toml", "--yes")
    assert early.code == 1
    summary = early.out.split("\nSummary\n")[1].splitlines()
    assert summary[0].startswith("  failed     acme/api    nothing was removed: ")
    assert summary[2].startswith("  failed     acme/batch  nothing was removed: ")
    assert summary[4:] == ["2 repositories: 2 failed."]
    assert [line.split("repair: ")[1] for line in summary[1:4:2]] == [
        "ghbootstrap migrate acme/api --finish --region us-east-1",
        "ghbootstrap migrate acme/batch --finish --region us-east-1 --user-name ci-batch",
    ]
    assert recorded.writes_since(mark) == []
    assert users() == ["ci-batch", "ghbootstrap-acme-api"]

    # One merged: that one finishes, the other still waits.
    setups.merge("acme/api", 2)
    half = cli("apply", "--finish", "retire.toml", "--yes", "--json")
    assert half.code == 1
    states = {r["name"]: r["state"] for r in json.loads(half.out)["repositories"]}
    assert states == {"acme/api": "changed", "acme/batch": "failed"}
    assert users() == ["ci-batch"]
    assert setups.secret("acme/api", "AWS_ACCESS_KEY_ID") is None

    [pull] = [p for p in setups.repo("acme/batch").pulls if p.state == "open"]
    setups.merge("acme/batch", pull.number)
    done = cli("apply", "--finish", "retire.toml", "--yes")
    assert done.code == 0, done.out
    assert users() == []
    assert setups.secret("acme/batch", "AWS_ACCESS_KEY_ID", "ci") is None
    assert done.out.endswith(
        "  changed    acme/batch  5 deleted\n2 repositories: 1 unchanged, 1 changed.\n"
    )

    # The repair printed for an entry runs as printed.
    printed = "ghbootstrap migrate acme/batch --finish --region us-east-1 --user-name ci-batch"
    rerun = cli(*shlex.split(printed)[1:], "--yes")
    assert rerun.code == 0, rerun.err


def test_finish_asks_once_and_refuses_without_an_answer(
    cli: Cli,
    setups: FakeGitHub,
    recorded: AwsCalls,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cli("apply", "retire.toml").code == 0
    for name in ("acme/api", "acme/batch"):
        [pull] = [p for p in setups.repo(name).pulls if p.state == "open"]
        setups.merge(name, pull.number)
    mark = len(recorded.names)

    no_terminal = cli("apply", "--finish", "retire.toml")
    assert no_terminal.code == 2
    assert no_terminal.err == (
        "error: apply --finish asks for confirmation, and no terminal is attached: pass "
        "--yes to delete without asking, or --dry-run to see what would go\n"
    )
    dry = cli("apply", "--finish", "retire.toml", "--dry-run")
    assert dry.code == 0, dry.err
    assert "  to change  acme/api" in dry.out
    assert recorded.writes_since(mark) == []

    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda: asked.append("?") or "n")
    declined = cli("apply", "--finish", "retire.toml")
    assert declined.code == 1
    assert asked == ["?"]
    assert "ghbootstrap apply --finish will delete:" in declined.err
    assert "  IAM user  ci-batch" in declined.err
    assert "  IAM user  ghbootstrap-acme-api" in declined.err
    assert declined.err.endswith(
        "error: nothing was removed: run again and answer y, or pass --yes\n"
    )
    assert recorded.writes_since(mark) == []

    monkeypatch.setattr("builtins.input", lambda: asked.append("?") or "y")
    accepted = cli("apply", "--finish", "retire.toml")
    assert accepted.code == 0, accepted.err
    assert asked == ["?", "?"]
    assert users() == []


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        (
            '[[repository]]\nname = "acme/api"\n',
            ("--finish", "--yes"),
            'PATH has no method = "migrate" entry: nothing to finish: `ghbootstrap scan '
            "OWNER --write FILE` writes one per key setup ghbootstrap made",
        ),
        (FILE, ("--yes",), "--yes needs --finish: add --finish, or leave --yes out"),
        (
            '[[repository]]\nname = "acme/api"\nmethod = "migrate"\nworkflow = "ci.yml"\n',
            (),
            'repository[1] acme/api: method "migrate" delivers its workflow as '
            '"pull-request" or "none", not \'ci.yml\': `apply --finish` reads the workflow '
            "from the default branch: use a pull request",
        ),
        (
            '[[repository]]\nname = "acme/api"\nmethod = "migrate"\ntags = ["v?"]\n',
            (),
            "repository[1] acme/api: --tag 'v?' has no exact workflow trigger: GitHub's filter "
            "syntax has no 'any one character', so the workflow would not run for the refs "
            "the role admits: use '*' instead of '?', list the names, or pass --no-workflow",
        ),
        (
            '[[repository]]\nname = "acme/api"\nmethod = "migrate"\n'
            'rotation_schedule = "1 2 * * *"\n',
            (),
            "repository[1] acme/api: 'rotation_schedule' does not apply to method "
            '"migrate": remove it, or set the method that takes it ("keys")',
        ),
        (
            '[[repository]]\nname = "acme/api"\nmethod = "migrate"\nuser_name = "ci"\n'
            '[[repository]]\nname = "acme/web"\nmethod = "keys"\nuser_name = "ci"\n',
            (),
            "repository[2] acme/web: IAM user 'ci' is also used by repository[1] acme/api: "
            "give each repository its own name for it",
        ),
    ],
)
def test_bad_files_and_options_before_any_call(
    cli: Cli,
    fake_github: FakeGitHub,
    tmp_path: Path,
    text: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    path = tmp_path / "file.toml"
    path.write_text(text)
    done = cli("apply", *args, str(path))
    assert done.code == 2
    assert done.err == f"error: {message.replace('PATH', str(path))}\n"
    assert fake_github.requests == []


def test_an_entry_without_a_key_setup_fails_alone_with_its_migrate_command(
    cli: Cli, setups: FakeGitHub, tmp_path: Path
) -> None:
    setups.add_repo("acme/web")
    (tmp_path / "mixed.toml").write_text(
        FILE + '\n[[repository]]\nname = "acme/web"\nmethod = "migrate"\nrole_name = "web-ci"\n'
    )
    done = cli("apply", "mixed.toml")
    assert done.code == 1
    summary = done.out.split("\nSummary\n")[1]
    assert (
        "  failed     acme/web    no access-key setup ghbootstrap made for acme/web was found "
        "(IAM user ghbootstrap-acme-web with its tag and key record): nothing to migrate: set "
        "up OIDC directly with `ghbootstrap oidc acme/web --region us-east-1 --role-name "
        "web-ci --open-pr`, or pass the --user-name the setup used\n"
        "                         repair: ghbootstrap migrate acme/web --region us-east-1 "
        "--role-name web-ci --open-pr\n"
    ) in summary
    assert summary.endswith("3 repositories: 2 changed, 1 failed.\n")
