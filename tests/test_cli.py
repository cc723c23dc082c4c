"""The command line as users meet it: exit codes, one-line errors, output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

from tests.checkouts import git_checkout
from tests.conftest import ACCOUNT, CliResult
from tests.fakes.github import FakeGitHub, Token

Cli = Callable[..., CliResult]


def test_help_does_not_import_the_sdks() -> None:
    probe = (
        "import sys\n"
        "from ghbootstrap.cli import main\n"
        "for args in (['--help'], ['oidc', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "sdks = {'boto3', 'botocore', 'github', 'nacl', 'requests'}\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & sdks)\n"
        "print('loaded:', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "Usage: ghbootstrap" in done.stdout
    assert done.stderr.strip() == "loaded: []"


def test_help_builds_only_the_command_it_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a command's options reads its whole signature: `ghbootstrap --help` lists
    the commands without building any, `ghbootstrap oidc --help` builds oidc alone."""
    from ghbootstrap.cli import main

    built: list[str] = []
    original = typer.main.get_command_from_info

    def counted(command_info: Any, **settings: Any) -> Any:
        built.append(command_info.callback.__name__)
        return original(command_info, **settings)

    monkeypatch.setattr(typer.main, "get_command_from_info", counted)
    for args, expected in ((["--help"], []), (["oidc", "--help"], ["oidc"])):
        built.clear()
        with pytest.raises(SystemExit):
            main(args)
        assert built == expected


def test_help_lists_the_commands_as_the_whole_tree_does(capsys: pytest.CaptureFixture[str]) -> None:
    from ghbootstrap.cli import app, main

    tree = typer.main.get_command(app)
    expected = tree.get_help(typer.Context(tree, info_name="ghbootstrap", **tree.context_settings))
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out == expected + "\n"


def test_python_dash_m_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ghbootstrap", "--version"], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, "ghbootstrap 0.2.0\n")


def test_no_github_token_is_a_usage_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    result = cli("oidc", "o/r", "--no-workflow")
    assert (result.code, result.err) == (
        2,
        "error: no GitHub token found: set GITHUB_TOKEN or GH_TOKEN, "
        "or log in with `gh auth login`\n",
    )


def test_a_rejected_token_fails_with_what_to_do(
    cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_revoked")
    result = cli("oidc", "octo-org/hello-world", "--no-workflow")
    assert result.code == 1
    assert result.err == (
        "error: GitHub rejected the token (401) while trying to read octo-org/hello-world: "
        "set GITHUB_TOKEN or GH_TOKEN to a valid token, or run `gh auth login`\n"
    )
    assert "ghp_revoked" not in result.err + result.out


def test_an_unknown_repository_fails_with_exit_1(
    cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    result = cli("oidc", "octo-org/nope", "--no-workflow")
    assert (result.code, result.err) == (
        1,
        "error: GitHub repository octo-org/nope not found: check OWNER/REPO, "
        "and that the token can see the repository\n",
    )


def test_a_token_without_variables_permission_names_it(
    cli: Cli, moto: None, fake_github: FakeGitHub
) -> None:
    fake_github.tokens[fake_github.token] = Token(permissions=frozenset({"metadata", "actions"}))
    result = cli("oidc", "octo-org/hello-world", "--no-workflow")
    assert result.code == 1
    assert "give the token Variables: read and write" in result.err


def test_full_run_then_rerun(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(git_checkout(tmp_path, "Octo-Org/Hello-World"))
    first = cli("oidc", "octo-org/hello-world")
    assert first.code == 0, first.err
    assert first.err == ""
    assert "  create     IAM role              ghbootstrap-octo-org-hello-world" in first.out
    assert f"Role ARN        arn:aws:iam::{ACCOUNT}:role/ghbootstrap-octo-org-hello-world" in (
        first.out
    )
    assert first.out.endswith("Done: 10 created.\n")
    assert (tmp_path / ".github/workflows/ecr-build-push.yml").is_file()

    second = cli("oidc", "octo-org/hello-world")
    assert second.code == 0
    assert second.out.endswith("No changes: everything already matches.\n")


def test_json_output_is_one_object(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    result = cli(
        "oidc", "octo-org/hello-world", "--json", "--workflow-path", str(tmp_path / "w.yml")
    )
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["command"] == "oidc"
    assert document["repository"] == "Octo-Org/Hello-World"
    assert document["changed"] is True
    assert document["outputs"]["role_arn"].endswith(":role/ghbootstrap-octo-org-hello-world")
    assert {r["action"] for r in document["resources"]} == {"create"}


def test_dry_run_prints_the_plan_and_documents(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    result = cli(
        "oidc", "octo-org/hello-world", "--dry-run", "--workflow-path", str(tmp_path / "w.yml")
    )
    assert result.code == 0, result.err
    assert "Plan (dry run: nothing was written)" in result.out
    assert '"Action": "sts:AssumeRoleWithWebIdentity"' in result.out
    assert result.out.endswith("Would make: 10 to create.\n")
    assert fake_github.writes() == []
    assert not (tmp_path / "w.yml").exists()


def test_a_bug_is_one_line_not_a_traceback(
    cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ghbootstrap.flows import oidc

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(oidc, "run", broken)
    result = cli("oidc", "octo-org/hello-world", "--no-workflow")
    assert (result.code, result.err) == (
        1,
        "error: unexpected KeyError: run again with -v and report it\n",
    )
    verbose = cli("oidc", "octo-org/hello-world", "-v", "--no-workflow")
    assert verbose.code == 1
    assert verbose.err.startswith("Traceback (most recent call last):\n")
    assert "KeyError: 'boom'\n" in verbose.err
    assert verbose.err.endswith("error: unexpected KeyError: report it with the traceback above\n")


def test_verbose_keeps_the_exit_code_of_bad_input(cli: Cli, fake_github: FakeGitHub) -> None:
    """`oidc acme -v` is bad input, exit 2, with or without -v."""
    plain = cli("oidc", "acme")
    verbose = cli("oidc", "acme", "-v")
    assert (plain.code, verbose.code) == (2, 2)
    line = (
        "error: 'acme' is not OWNER/REPO: give the repository as OWNER/REPO, "
        "for example octo-org/hello-world\n"
    )
    assert plain.err == line
    assert verbose.err.startswith("Traceback (most recent call last):\n")
    assert verbose.err.endswith(
        "ghbootstrap.errors.UsageError: 'acme' is not OWNER/REPO: "
        "give the repository as OWNER/REPO, for example octo-org/hello-world\n" + line
    )
    assert fake_github.requests == []


def test_verbose_logs_call_names_only(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    result = cli("oidc", "octo-org/hello-world", "-v", "--workflow-path", str(tmp_path / "w.yml"))
    assert result.code == 0, result.err
    assert "ghbootstrap.aws: aws iam.CreateRole\n" in result.err
    assert "ghbootstrap.github: github POST /repos/Octo-Org/Hello-World/actions/variables\n" in (
        result.err
    )
    assert fake_github.token not in result.err + result.out


def _all_secrets(user: str) -> list[str]:
    from moto.backends import get_backend

    iam = get_backend("iam")[ACCOUNT]["global"]
    found = iam.users.get(user)
    return [k.secret_access_key for k in found.access_keys] if found else []


def test_secret_access_keys_never_reach_output_or_logs(
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="ghbootstrap")
    user = "ghbootstrap-octo-org-hello-world"
    workflow = str(tmp_path / "w.yml")
    seen: list[str] = []
    secrets: list[str] = []
    for args in (
        ["oidc", "octo-org/hello-world", "--no-workflow", "-v"],
        ["oidc", "octo-org/hello-world", "--no-workflow", "--json", "--dry-run"],
        ["keys", "octo-org/hello-world", "--workflow-path", workflow, "-v"],
        ["keys", "octo-org/hello-world", "--workflow-path", workflow, "--json"],
        ["rotate", "octo-org/hello-world", "-v"],
        ["rotate", "octo-org/hello-world", "--json"],
        ["rotate", "octo-org/hello-world", "--dry-run"],
    ):
        result = cli(*args)
        assert result.code == 0, result.err
        seen += [result.out, result.err]
        secrets += _all_secrets(user)
    seen.append(caplog.text)
    seen += [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    assert len(set(secrets)) >= 3
    held = fake_github.secret("Octo-Org/Hello-World", "AWS_SECRET_ACCESS_KEY")
    assert held in secrets
    for secret in set(secrets):
        assert all(secret not in text for text in seen)
    assert fake_github.token not in "".join(seen)


def test_rotate_without_keys_first_exits_1(cli: Cli, moto: None, fake_github: FakeGitHub) -> None:
    result = cli("rotate", "octo-org/hello-world")
    assert result.code == 1
    assert result.err.startswith(
        "error: IAM user ghbootstrap-octo-org-hello-world holds no key ghbootstrap installed"
    )


def test_keys_bad_cron_is_a_usage_error(cli: Cli, fake_github: FakeGitHub) -> None:
    result = cli("keys", "o/r", "--rotation-schedule", "every day")
    assert result.code == 2
    assert result.err.startswith("error: 'every day' is not a valid five-field cron expression")
    assert fake_github.requests == []


def test_scopes_are_sets_so_option_order_changes_nothing(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.chdir(git_checkout(tmp_path, "Octo-Org/Hello-World"))
    repo = "octo-org/hello-world"
    scopes = ["--branch", "main", "--branch", "release", "--tag", "v*", "--tag", "stable"]
    scopes += ["--environment", "prod", "--environment", "eu"]
    first = cli("oidc", repo, *scopes)
    assert first.code == 0, first.err
    iam = boto3.client("iam")
    role = iam.get_role(RoleName="ghbootstrap-octo-org-hello-world")["Role"]
    workflow = (tmp_path / ".github/workflows/ecr-build-push.yml").read_text()
    writes = len(fake_github.writes())

    reordered = ["--environment", "eu", "--environment", "prod", "--environment", "eu"]
    reordered += ["--tag", "stable", "--tag", "v*", "--branch", "release", "--branch", "main"]
    second = cli("oidc", repo, *reordered)
    assert second.code == 0, second.err
    assert second.out.endswith("No changes: everything already matches.\n")
    assert iam.get_role(RoleName="ghbootstrap-octo-org-hello-world")["Role"] == role
    assert (tmp_path / ".github/workflows/ecr-build-push.yml").read_text() == workflow
    assert len(fake_github.writes()) == writes


def test_a_question_mark_pattern_is_fine_without_a_workflow(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`?` has no exact trigger, but with --no-workflow no trigger is written."""
    monkeypatch.chdir(tmp_path)
    result = cli("oidc", "octo-org/hello-world", "--tag", "v?", "--no-workflow", "--dry-run")
    assert result.code == 0, result.err
    assert "repo:Octo-Org/Hello-World:ref:refs/tags/v?" in result.out
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_during_a_run_is_exit_130_and_one_line(
    cli: Cli, moto: None, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ghbootstrap.flows import oidc

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(oidc, "run", interrupted)
    result = cli("oidc", "octo-org/hello-world", "--no-workflow")
    assert (result.code, result.err) == (
        130,
        "error: interrupted: run the command again to finish\n",
    )
