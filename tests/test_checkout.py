"""The default workflow path: the checkout of OWNER/REPO on the GitHub host in use, only."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ghbootstrap.checkout import remote_repository
from ghbootstrap.hosts import web_host
from tests.checkouts import git_checkout
from tests.conftest import CliResult
from tests.fakes.github import FakeGitHub

Cli = Callable[..., CliResult]
REPO = "Octo-Org/Hello-World"
WORKFLOW = ".github/workflows/ecr-build-push.yml"
ELSEWHERE = "pass --workflow-path PATH, --open-pr (a pull request instead) or --no-workflow\n"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/Octo-Org/Hello-World.git", ("github.com", "octo-org/hello-world")),
        ("https://github.com/octo-org/hello-world", ("github.com", "octo-org/hello-world")),
        (
            "https://user@GitHub.com:443/Octo-Org/Hello-World/",
            ("github.com", "octo-org/hello-world"),
        ),
        ("git@github.com:Octo-Org/Hello-World.git", ("github.com", "octo-org/hello-world")),
        (
            "ssh://git@github.com:22/Octo-Org/Hello-World.git",
            ("github.com", "octo-org/hello-world"),
        ),
        ("github.com:octo-org/hello-world", ("github.com", "octo-org/hello-world")),
        ("http://127.0.0.1:8080/o/r.git", ("127.0.0.1", "o/r")),
        ("git@ghe.example.com:team/app.git", ("ghe.example.com", "team/app")),
        ("/srv/git/hello-world.git", None),
        ("https://github.com/octo-org", None),
        ("https://github.com/a/b/c.git", None),
    ],
)
def test_remote_urls(url: str, expected: tuple[str, str] | None) -> None:
    assert remote_repository(url) == expected


@pytest.mark.parametrize(
    ("api", "host"),
    [
        ("https://api.github.com", "github.com"),
        ("http://127.0.0.1:8123", "127.0.0.1"),
        ("https://ghe.example.com/api/v3", "ghe.example.com"),
        ("https://api.octocorp.ghe.com", "octocorp.ghe.com"),
    ],
)
def test_the_host_in_use(api: str, host: str) -> None:
    assert web_host(api) == host


def test_from_a_subfolder_the_workflow_goes_to_the_checkout_root(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = git_checkout(tmp_path / "hello", "octo-org/HELLO-world", ssh=True)
    (root / "src" / "app").mkdir(parents=True)
    monkeypatch.chdir(root / "src" / "app")
    result = cli("oidc", "octo-org/hello-world")
    assert result.code == 0, result.err
    assert (root / WORKFLOW).is_file()
    assert not (root / "src" / "app" / ".github").exists()


def test_a_worktree_is_a_checkout_too(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = git_checkout(tmp_path / "main", REPO)
    git = ["git", "-C", str(main), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "commit", "--quiet", "--allow-empty", "-m", "first"], check=True)
    subprocess.run([*git, "worktree", "add", "--quiet", str(tmp_path / "wt")], check=True)
    assert (tmp_path / "wt" / ".git").is_file()
    monkeypatch.chdir(tmp_path / "wt")
    assert cli("keys", "octo-org/hello-world").code == 0
    assert (tmp_path / "wt" / WORKFLOW).is_file()


@pytest.mark.parametrize(
    ("remote", "host", "message"),
    [
        (None, "github.com", "{cwd} is not inside a git checkout, so there is no checkout of "),
        ("Octo-Org/Other", "github.com", "the git checkout at {cwd} has no remote pointing to "),
        (REPO, "ghe.example.com", "the git checkout at {cwd} has no remote pointing to "),
    ],
)
def test_anywhere_else_is_refused_before_any_call(
    cli: Cli,
    moto: None,
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    remote: str | None,
    host: str,
    message: str,
) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    if remote is not None:
        git_checkout(cwd, remote, host)
    monkeypatch.chdir(cwd)
    result = cli("oidc", "octo-org/hello-world")
    assert result.code == 2
    assert result.err == (
        "error: "
        + message.format(cwd=cwd)
        + "octo-org/hello-world on github.com"
        + (" to write the workflow into: run from that checkout, or " if remote is None else "")
        + ("" if remote is None else ": run from a checkout of octo-org/hello-world, or ")
        + ELSEWHERE
    )
    assert fake_github.requests == []
    assert not (cwd / ".github").exists()


def test_workflow_path_keeps_its_meaning_outside_a_checkout(
    cli: Cli, moto: None, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("oidc", "octo-org/hello-world", "--workflow-path", "ci/build.yml")
    assert result.code == 0, result.err
    assert (tmp_path / "ci/build.yml").is_file()
